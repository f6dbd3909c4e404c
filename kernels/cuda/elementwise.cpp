// The elementwise ops on the GPU backends (vector_ops.cu's kernels), on the backend's stream.
#include <memory>

#include "kernels/cuda/descriptors.hpp"
#include "kernels/cuda/gpu_backend.hpp"
#include "kernels/cuda/launch.hpp"

namespace aigc::cuda {
namespace {

class GpuElementwise final : public ElementwiseKernel {
 public:
  GpuElementwise(GpuBackend& backend, const ElementwiseShape& s)
      : ElementwiseKernel(s), backend_(backend) {}
  void compute(const Buffer& a, const Buffer* b, Buffer& y) override {
    switch (shape().op) {
      case ElementwiseOp::add:
        launch_add(a.as<const float>(), b->as<const float>(), y.as<float>(), shape().n,
                   backend_.stream());
        break;
      case ElementwiseOp::gelu_tanh:
        launch_gelu_tanh(a.as<const float>(), y.as<float>(), shape().n, backend_.stream());
        break;
      case ElementwiseOp::silu_mul:
        launch_silu_mul(a.as<const float>(), b->as<const float>(), y.as<float>(), shape().n,
                        backend_.stream());
        break;
      case ElementwiseOp::gelu_tanh_mul:
        launch_gelu_tanh_mul(a.as<const float>(), b->as<const float>(), y.as<float>(), shape().n,
                             backend_.stream());
        break;
    }
  }

 private:
  GpuBackend& backend_;
};

}  // namespace

AIGC_REGISTER_KERNEL(gpu_kernels(), ElementwiseShape, [](Backend& b, const ElementwiseShape& s) {
  return std::unique_ptr<ElementwiseKernel>(std::make_unique<GpuElementwise>(started(b), s));
});

}  // namespace aigc::cuda
