#include <omp.h>

#include "core/host_backend.hpp"
#include "kernels/openmp/attention.hpp"
#include "kernels/openmp/matmul.hpp"
#include "kernels/openmp/vector_ops.hpp"
#include "kernels/simd/gemm.hpp"

namespace aigc {
namespace {

class OpenmpBackend final : public HostBackend {
 public:
  std::string name() const override { return "openmp"; }
  std::string description() const override { return "the simd kernels on all cores with OpenMP"; }
  ComputeClass compute_class() const override { return ComputeClass::simd_core; }
  std::string simd_target() const override { return simd::dispatched_target(); }
  // Oversubscription is allowed up to 4x the cores, to show what it costs.
  int max_threads() const override { return 4 * omp_get_num_procs(); }
  std::unique_ptr<MatmulKernel> make_matmul(const MatmulShape& shape) override {
    return openmp::make_matmul_kernel(shape, threads_);
  }
  std::unique_ptr<AttentionKernel> make_attention(const AttentionShape& shape) override {
    return openmp::make_attention_kernel(shape, threads_);
  }
  std::unique_ptr<LayernormKernel> make_layernorm(const LayernormShape& shape) override {
    return openmp::make_layernorm_kernel(shape, threads_);
  }
  std::unique_ptr<ElementwiseKernel> make_elementwise(const ElementwiseShape& shape) override {
    return openmp::make_elementwise_kernel(shape, threads_);
  }
};

}  // namespace

std::unique_ptr<Backend> make_openmp_backend() { return std::make_unique<OpenmpBackend>(); }

}  // namespace aigc
