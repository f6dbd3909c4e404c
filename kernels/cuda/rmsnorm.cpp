// Rmsnorm on the GPU backends (vector_ops.cu's kernel), enqueued on the backend's stream.
#include <memory>

#include "kernels/cuda/descriptors.hpp"
#include "kernels/cuda/gpu_backend.hpp"
#include "kernels/cuda/launch.hpp"

namespace aigc::cuda {

AIGC_REGISTER_KERNEL(gpu_kernels(), RmsnormShape, [](Backend& b, const RmsnormShape& shape) {
  cudaStream_t s = started(b).stream();
  return kernel_from_function<RmsnormKernel>(
      shape, [s](const RmsnormShape& sh, const Buffer& x, const Buffer& gamma, Buffer& y) {
        launch_rmsnorm(x.as<const float>(), gamma.as<const float>(), y.as<float>(), sh.rows, sh.dim,
                       sh.eps, s);
      });
});

}  // namespace aigc::cuda
