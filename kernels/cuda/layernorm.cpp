// Layernorm on the GPU backends (vector_ops.cu's kernel), enqueued on the backend's stream.
#include <memory>

#include "kernels/cuda/descriptors.hpp"
#include "kernels/cuda/gpu_backend.hpp"
#include "kernels/cuda/launch.hpp"

namespace aigc::cuda {
namespace {

class GpuLayernorm final : public LayernormKernel {
 public:
  GpuLayernorm(GpuBackend& backend, const LayernormShape& s)
      : LayernormKernel(s), backend_(backend) {}
  void compute(const Buffer& x, const Buffer& gamma, const Buffer& beta, Buffer& y) override {
    launch_layernorm(x.as<const float>(), gamma.as<const float>(), beta.as<const float>(),
                     y.as<float>(), shape().rows, shape().dim, shape().eps, backend_.stream());
  }

 private:
  GpuBackend& backend_;
};

}  // namespace

AIGC_REGISTER_KERNEL(gpu_kernels(), LayernormShape, [](Backend& b, const LayernormShape& s) {
  return std::unique_ptr<LayernormKernel>(std::make_unique<GpuLayernorm>(started(b), s));
});

}  // namespace aigc::cuda
