#include <omp.h>

#include "core/host_backend.hpp"
#include "kernels/openmp/attention.hpp"
#include "kernels/openmp/matmul.hpp"
#include "kernels/openmp/vector_ops.hpp"
#include "kernels/simd/gemm.hpp"
#include "kernels/simd/gemv_int8.hpp"

namespace aigc {
namespace {

class OpenmpBackend final : public HostBackend {
 public:
  using HostBackend::HostBackend;

 protected:
  std::unique_ptr<MatmulKernel> new_matmul(const MatmulShape& shape) override {
    return openmp::make_matmul_kernel(shape, threads_);
  }
  std::unique_ptr<AttentionKernel> new_attention(const AttentionShape& shape) override {
    return openmp::make_attention_kernel(shape, threads_);
  }
  std::unique_ptr<LayernormKernel> new_layernorm(const LayernormShape& shape) override {
    return openmp::make_layernorm_kernel(shape, threads_);
  }
  std::unique_ptr<RmsnormKernel> new_rmsnorm(const RmsnormShape& shape) override {
    return openmp::make_rmsnorm_kernel(shape, threads_);
  }
  std::unique_ptr<ElementwiseKernel> new_elementwise(const ElementwiseShape& shape) override {
    return openmp::make_elementwise_kernel(shape, threads_);
  }
  std::unique_ptr<RopeKernel> new_rope(const RopeShape& shape) override {
    return openmp::make_rope_kernel(shape, threads_);
  }
  void run_decode_batch_attention(const HeadsShape& shape, std::span<const std::int64_t> positions,
                                  const Buffer& qkv, std::span<Buffer* const> k_caches,
                                  std::span<Buffer* const> v_caches, Buffer& y) override {
    openmp::decode_batch_attention(shape, positions, qkv, k_caches, v_caches, y, threads_);
  }
};

}  // namespace

// Listed in kernels/registry.cpp.
const BackendDescriptor& openmp_descriptor() {
  static const BackendDescriptor d{
      .name = "openmp",
      .description = "the simd kernels on all cores with OpenMP",
      .compute_class = ComputeClass::simd_core,
      .ops = {Op::matmul, Op::attention, Op::layernorm, Op::rmsnorm, Op::elementwise, Op::rope},
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
