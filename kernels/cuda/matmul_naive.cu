// Step 0 of the matmul ladder: one thread per output element, every operand read from
// global memory (caches only). Adjacent threads take adjacent columns, so B's and C's
// accesses are coalesced; A's row is a broadcast.
#include "kernels/cuda/check.hpp"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/matmul_variants.hpp"

namespace aigc::cuda {
namespace {

constexpr int kCols = 32, kRows = 8;  // a block's outputs

__global__ void matmul_naive_kernel(GemmArgs g) {
  const TileIndex tile = tile_of_block(ceil_div(g.N, kCols));
  const std::int64_t n = tile.col * kCols + threadIdx.x;
  const std::int64_t m = tile.row * kRows + threadIdx.y;
  if (m >= g.M || n >= g.N) return;
  const float* a = g.a + m * g.K;
  float acc = 0.0f;
  if (g.transpose_b) {
    const float* b = g.b + n * g.K;
    for (std::int64_t k = 0; k < g.K; ++k) acc += a[k] * b[k];
  } else {
    for (std::int64_t k = 0; k < g.K; ++k) acc += a[k] * g.b[k * g.N + n];
  }
  if (g.bias != nullptr) acc += g.bias[n];
  g.c[m * g.N + n] = acc;
}

}  // namespace

void launch_matmul_naive(const GemmArgs& g, cudaStream_t stream) {
  const dim3 block(kCols, kRows);
  launch(matmul_naive_kernel, tiles_grid(ceil_div(g.M, kRows), ceil_div(g.N, kCols), "matmul"),
         block, 0, stream, g);
  AIGC_CUDA_CHECK_LAUNCH();
}

}  // namespace aigc::cuda
