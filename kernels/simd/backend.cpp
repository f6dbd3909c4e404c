// The simd backend: host memory, a batch's decode attention in one call, and the kernels its op
// files (<op>.cpp beside this one) register in its table.
#include "kernels/simd/backend.hpp"

#include "core/host_backend.hpp"
#include "kernels/simd/attention.hpp"
#include "kernels/simd/gemm.hpp"
#include "kernels/simd/gemv_int8.hpp"

namespace aigc {
namespace {

class SimdBackend final : public HostBackend {
 public:
  using HostBackend::HostBackend;

 protected:
  void run_decode_batch_attention(const HeadsShape& shape, std::span<const std::int64_t> positions,
                                  const Buffer& qkv, std::span<Buffer* const> k_caches,
                                  std::span<Buffer* const> v_caches, Buffer& y) override {
    for (std::size_t r = 0; r < positions.size(); ++r) {
      const auto row = static_cast<std::int64_t>(r);
      for (std::int64_t g = 0; g < shape.kv_head_count(); ++g) {
        simd::decode_batch_attention_task(
            shape, positions[r], qkv.as<const float>() + row * shape.qkv_row(),
            k_caches[r]->as<std::uint8_t>(), v_caches[r]->as<std::uint8_t>(),
            y.as<float>() + row * shape.heads * shape.head_dim, g);
      }
    }
  }
};

}  // namespace

KernelTable& simd::kernels() {
  static KernelTable table("simd");
  return table;
}

// Listed in kernels/registry.cpp.
const BackendDescriptor& simd_descriptor() {
  static const BackendDescriptor d{
      .name = "simd",
      .description = "Google Highway, runtime-dispatched, packed and register-blocked, one thread",
      .compute_class = ComputeClass::simd_core,
      .kernels = [] { return &simd::kernels(); },
      .weight_formats = {std::begin(kAllWeightFormats), std::end(kAllWeightFormats)},
      .bf16_activations = {WeightFormat::bf16},
      .int8_activations = simd::int8_activation_formats(),
      .decode_batch_attention = true,
      .simd_target = [] { return simd::dispatched_target(); },
      .make = [] { return std::unique_ptr<Backend>(new SimdBackend(simd_descriptor())); }};
  return d;
}

}  // namespace aigc
