#include "kernels/cuda/matmul_variants.hpp"

namespace aigc::cuda {

namespace {

bool small_m(MatmulVariant variant, const GemmArgs& g) {
  return variant == MatmulVariant::register_blocked && g.M <= kSmallM;
}

}  // namespace

std::int64_t matmul_workspace_floats(MatmulVariant variant, const GemmArgs& g) {
  return small_m(variant, g) ? matmul_small_m_workspace_floats(g) : 0;
}

void launch_matmul(MatmulVariant variant, const GemmArgs& g, float* workspace,
                   cudaStream_t stream) {
  if (g.M <= 0 || g.N <= 0 || g.K <= 0) return;  // the backend validated; nothing to do
  if (small_m(variant, g)) return launch_matmul_small_m(g, workspace, stream);
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
