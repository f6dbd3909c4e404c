// RoPE on the GPU backends (vector_ops.cu's kernel), in place on the backend's stream.
#include <memory>

#include "kernels/cuda/descriptors.hpp"
#include "kernels/cuda/gpu_backend.hpp"
#include "kernels/cuda/launch.hpp"

namespace aigc::cuda {

AIGC_REGISTER_KERNEL(gpu_kernels(), RopeShape, [](Backend& b, const RopeShape& shape) {
  cudaStream_t s = started(b).stream();
  return kernel_from_function<RopeKernel>(shape, [s](const RopeShape& sh, Buffer& x) {
    launch_rope(x.as<float>(), sh.tokens, sh.heads, sh.head_dim, sh.row_floats(), sh.pos0, sh.base,
                s);
  });
});

}  // namespace aigc::cuda
