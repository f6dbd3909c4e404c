#include "core/host_backend.hpp"
#include "kernels/simd/attention.hpp"
#include "kernels/simd/elementwise.hpp"
#include "kernels/simd/gemm.hpp"
#include "kernels/simd/gemv_int8.hpp"
#include "kernels/simd/layernorm.hpp"
#include "kernels/simd/rmsnorm.hpp"
#include "kernels/simd/rope.hpp"

namespace aigc {
namespace {

class SimdMatmul final : public MatmulKernel {
 public:
  explicit SimdMatmul(const MatmulShape& shape) : MatmulKernel(shape) {}
  void compute(const Buffer& a, const Buffer& b, const Buffer* bias, Buffer& c) override {
    const bool stored = shape().b_format != WeightFormat::f32;
    simd::gemm({.m = shape().M,
                .n = shape().N,
                .k = shape().K,
                .a = a.as<const float>(),
                .lda = shape().K,
                .b = b.as<const float>(),
                .ldb = shape().transpose_b ? shape().K : shape().N,
                .transpose_b = shape().transpose_b,
                .bias = bias != nullptr ? bias->as<const float>() : nullptr,
                .c = c.as<float>(),
                .ldc = shape().N,
                .b_format = shape().b_format,
                .b_stored = b.as<const std::uint8_t>(),
                .ldb_bytes = stored ? row_bytes(shape().b_format, shape().K) : 0});
  }

 private:
};

class SimdBackend final : public HostBackend {
 public:
  using HostBackend::HostBackend;

 protected:
  std::unique_ptr<MatmulKernel> new_matmul(const MatmulShape& shape) override {
    return std::make_unique<SimdMatmul>(shape);
  }
  std::unique_ptr<AttentionKernel> new_attention(const AttentionShape& shape) override {
    return simd::make_attention_kernel(shape);
  }
  std::unique_ptr<LayernormKernel> new_layernorm(const LayernormShape& shape) override {
    return simd::make_layernorm_kernel(shape);
  }
  std::unique_ptr<RmsnormKernel> new_rmsnorm(const RmsnormShape& shape) override {
    return simd::make_rmsnorm_kernel(shape);
  }
  std::unique_ptr<ElementwiseKernel> new_elementwise(const ElementwiseShape& shape) override {
    return simd::make_elementwise_kernel(shape);
  }
  std::unique_ptr<RopeKernel> new_rope(const RopeShape& shape) override {
    return simd::make_rope_kernel(shape);
  }
  void run_decode_batch_attention(const HeadsShape& shape, std::span<const std::int64_t> positions,
                                  const Buffer& qkv, std::span<Buffer* const> k_caches,
                                  std::span<Buffer* const> v_caches, Buffer& y) override {
    for (std::size_t r = 0; r < positions.size(); ++r) {
      const auto row = static_cast<std::int64_t>(r);
      for (std::int64_t g = 0; g < shape.kv_head_count(); ++g) {
        simd::decode_batch_attention_task(shape, positions[r],
                                          qkv.as<const float>() + row * shape.qkv_row(),
                                          k_caches[r]->as<float>(), v_caches[r]->as<float>(),
                                          y.as<float>() + row * shape.heads * shape.head_dim, g);
      }
    }
  }
};

}  // namespace

// Listed in kernels/registry.cpp.
const BackendDescriptor& simd_descriptor() {
  static const BackendDescriptor d{
      .name = "simd",
      .description = "Google Highway, runtime-dispatched, packed and register-blocked, one thread",
      .compute_class = ComputeClass::simd_core,
      .ops = {Op::matmul, Op::attention, Op::layernorm, Op::rmsnorm, Op::elementwise, Op::rope},
      .weight_formats = {std::begin(kAllWeightFormats), std::end(kAllWeightFormats)},
      .bf16_activations = {WeightFormat::bf16},
      .int8_activations = simd::int8_activation_formats(),
      .decode_batch_attention = true,
      .simd_target = [] { return simd::dispatched_target(); },
      .make = [] { return std::unique_ptr<Backend>(new SimdBackend(simd_descriptor())); }};
  return d;
}

}  // namespace aigc
