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
  std::string name() const override { return "onednn"; }
  std::string description() const override {
    const dnnl_version_t* v = dnnl_version();
    return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
           std::to_string(v->patch) + " primitives (the vendor library on the CPU)";
  }
  ComputeClass compute_class() const override { return ComputeClass::simd_core; }
  std::string simd_target() const override { return "onednn:" + onednn::effective_isa(); }
  int max_threads() const override { return 4 * omp_get_num_procs(); }
  std::unique_ptr<MatmulKernel> make_matmul(const MatmulShape& shape) override {
    return onednn::make_matmul_kernel(shape, threads_);
  }
  std::unique_ptr<AttentionKernel> make_attention(const AttentionShape& shape) override {
    return onednn::make_attention_kernel(shape, threads_);
  }
  std::unique_ptr<LayernormKernel> make_layernorm(const LayernormShape& shape) override {
    return onednn::make_layernorm_kernel(shape, threads_);
  }
  std::unique_ptr<ElementwiseKernel> make_elementwise(const ElementwiseShape& shape) override {
    return onednn::make_elementwise_kernel(shape, threads_);
  }
};

}  // namespace

std::unique_ptr<Backend> make_onednn_backend() { return std::make_unique<OnednnBackend>(); }

}  // namespace aigc
