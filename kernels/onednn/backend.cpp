#include <omp.h>

#include "core/host_backend.hpp"
#include "kernels/onednn/attention.hpp"
#include "kernels/onednn/engine.hpp"
#include "kernels/onednn/matmul.hpp"
#include "kernels/onednn/vector_ops.hpp"

namespace aigc {
namespace {

class OnednnBackend final : public HostBackend {
 public:
  using HostBackend::HostBackend;

 protected:
  std::unique_ptr<MatmulKernel> new_matmul(const MatmulShape& shape) override {
    return onednn::make_matmul_kernel(shape, threads_);
  }
  std::unique_ptr<AttentionKernel> new_attention(const AttentionShape& shape) override {
    return onednn::make_attention_kernel(shape, threads_);
  }
  std::unique_ptr<LayernormKernel> new_layernorm(const LayernormShape& shape) override {
    return onednn::make_layernorm_kernel(shape, threads_);
  }
  std::unique_ptr<ElementwiseKernel> new_elementwise(const ElementwiseShape& shape) override {
    return onednn::make_elementwise_kernel(shape, threads_);
  }
};

std::string onednn_description() {
  const dnnl_version_t* v = dnnl_version();
  return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
         std::to_string(v->patch) + " primitives (the vendor library on the CPU)";
}

}  // namespace

// No rmsnorm: oneDNN 2.6's layer normalization always subtracts the mean (RMS normalization
// arrived in oneDNN 3.x), and a composition of our own would not be the vendor's kernel.
// Listed in kernels/registry.cpp.
const BackendDescriptor& onednn_descriptor() {
  static const BackendDescriptor d{
      .name = "onednn",
      .description = onednn_description(),
      .compute_class = ComputeClass::simd_core,
      .ops = {Op::matmul, Op::attention, Op::layernorm, Op::elementwise},
      // bf16 weights: oneDNN 2.6's matmul takes bf16 only against bf16 activations, so A is
      // reordered to bf16 inside the op. Its other formats' weights (f16 alone, the blocks of
      // q8_0, q4_0, q4_1) arrived in oneDNN 3.x: skipped by name.
      .weight_formats = {WeightFormat::f32, WeightFormat::bf16},
      .bf16_activations = {WeightFormat::bf16},
      .max_threads = [] { return 4 * omp_get_num_procs(); },
      .simd_target = [] { return "onednn:" + onednn::effective_isa(); },
      .make = [] { return std::unique_ptr<Backend>(new OnednnBackend(onednn_descriptor())); }};
  return d;
}

}  // namespace aigc
