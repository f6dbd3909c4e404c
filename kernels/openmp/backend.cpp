// The openmp backend: the simd kernels on all cores (host memory, a batch's decode attention
// shared among the threads, and the kernels its op files, <op>.cpp beside this one, register).
#include "kernels/openmp/backend.hpp"

#include <omp.h>

#include "core/host_backend.hpp"
#include "kernels/openmp/attention.hpp"
#include "kernels/simd/gemm.hpp"
#include "kernels/simd/gemv_int8.hpp"

namespace aigc {
namespace {

class OpenmpBackend final : public HostBackend {
 public:
  using HostBackend::HostBackend;

 protected:
  void run_decode_batch_attention(const HeadsShape& shape, std::span<const std::int64_t> positions,
                                  const Buffer& qkv, std::span<Buffer* const> k_caches,
                                  std::span<Buffer* const> v_caches, Buffer& y) override {
    openmp::decode_batch_attention(shape, positions, qkv, k_caches, v_caches, y, threads_);
  }
};

}  // namespace

KernelTable& openmp::kernels() {
  static KernelTable table("openmp");
  return table;
}

// Listed in kernels/registry.cpp.
const BackendDescriptor& openmp_descriptor() {
  static const BackendDescriptor d{
      .name = "openmp",
      .description = "the simd kernels on all cores with OpenMP",
      .compute_class = ComputeClass::simd_core,
      .kernels = [] { return &openmp::kernels(); },
      .weight_formats = {std::begin(kAllWeightFormats), std::end(kAllWeightFormats)},
      .bf16_activations = {WeightFormat::bf16},
      .int8_activations = simd::int8_activation_formats(),
      .decode_batch_attention = true,
      // Oversubscription is allowed up to 4x the cores, to show what it costs.
      .max_threads = [] { return 4 * omp_get_num_procs(); },
      .simd_target = [] { return simd::dispatched_target(); },
      .make = [] { return std::unique_ptr<Backend>(new OpenmpBackend(openmp_descriptor())); }};
  return d;
}

}  // namespace aigc
