#include "core/host_backend.hpp"
#include "kernels/scalar/attention.hpp"
#include "kernels/scalar/elementwise.hpp"
#include "kernels/scalar/layernorm.hpp"
#include "kernels/scalar/matmul.hpp"
#include "kernels/scalar/rmsnorm.hpp"
#include "kernels/scalar/rope.hpp"

namespace aigc {
namespace {

class ScalarBackend final : public HostBackend {
 public:
  using HostBackend::HostBackend;

 protected:
  std::unique_ptr<MatmulKernel> new_matmul(const MatmulShape& shape) override {
    return scalar::make_matmul_kernel(shape);
  }
  std::unique_ptr<AttentionKernel> new_attention(const AttentionShape& shape) override {
    return scalar::make_attention_kernel(shape);
  }
  std::unique_ptr<LayernormKernel> new_layernorm(const LayernormShape& shape) override {
    return scalar::make_layernorm_kernel(shape);
  }
  std::unique_ptr<RmsnormKernel> new_rmsnorm(const RmsnormShape& shape) override {
    return scalar::make_rmsnorm_kernel(shape);
  }
  std::unique_ptr<ElementwiseKernel> new_elementwise(const ElementwiseShape& shape) override {
    return scalar::make_elementwise_kernel(shape);
  }
  std::unique_ptr<RopeKernel> new_rope(const RopeShape& shape) override {
    return scalar::make_rope_kernel(shape);
  }
};

}  // namespace

// Listed in kernels/registry.cpp.
const BackendDescriptor& scalar_descriptor() {
  static const BackendDescriptor d{
      .name = "scalar",
      .description = "plain loops, one thread, auto-vectorization off: the reference and baseline",
      .compute_class = ComputeClass::scalar_core,
      .ops = {Op::matmul, Op::attention, Op::layernorm, Op::rmsnorm, Op::elementwise,
              Op::rope},
      .weight_formats = {std::begin(kAllWeightFormats), std::end(kAllWeightFormats)},
      .make = [] { return std::unique_ptr<Backend>(new ScalarBackend(scalar_descriptor())); }};
  return d;
}

}  // namespace aigc
