#include "kernels/cuda/matmul_variants.hpp"

namespace aigc::cuda {

void launch_matmul(MatmulVariant variant, const GemmArgs& g, cudaStream_t stream) {
  if (g.M <= 0 || g.N <= 0 || g.K <= 0) return;  // the backend validated; nothing to do
  switch (variant) {
    case MatmulVariant::naive:
      return launch_matmul_naive(g, stream);
    case MatmulVariant::tiled:
      return launch_matmul_tiled(g, stream);
    case MatmulVariant::register_blocked:
      return launch_matmul_register_blocked(g, stream);
    case MatmulVariant::bf16_tensor_core:
      return launch_matmul_bf16(g, stream);
  }
}

}  // namespace aigc::cuda
