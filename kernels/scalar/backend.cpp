#include "core/host_backend.hpp"
#include "kernels/scalar/attention.hpp"
#include "kernels/scalar/elementwise.hpp"
#include "kernels/scalar/layernorm.hpp"
#include "kernels/scalar/matmul.hpp"

namespace aigc {
namespace {

class ScalarBackend final : public HostBackend {
 public:
  std::string name() const override { return "scalar"; }
  std::string description() const override {
    return "plain loops, one thread, auto-vectorization off: the reference and baseline";
  }
  ComputeClass compute_class() const override { return ComputeClass::scalar_core; }
  std::string simd_target() const override { return "none"; }
  std::unique_ptr<MatmulKernel> make_matmul(const MatmulShape& shape) override {
    return scalar::make_matmul_kernel(shape);
  }
  std::unique_ptr<AttentionKernel> make_attention(const AttentionShape& shape) override {
    return scalar::make_attention_kernel(shape);
  }
  std::unique_ptr<LayernormKernel> make_layernorm(const LayernormShape& shape) override {
    return scalar::make_layernorm_kernel(shape);
  }
  std::unique_ptr<ElementwiseKernel> make_elementwise(const ElementwiseShape& shape) override {
    return scalar::make_elementwise_kernel(shape);
  }
};

}  // namespace

std::unique_ptr<Backend> make_scalar_backend() { return std::make_unique<ScalarBackend>(); }

}  // namespace aigc
