// Step 1: 32x32 tiles of A and B staged in shared memory, so each operand element is read
// from global memory once per tile instead of once per output (32x less traffic); still one
// output per thread, so every multiply-add needs two shared-memory loads.
#include "kernels/cuda/check.hpp"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/matmul_variants.hpp"

namespace aigc::cuda {
namespace {

constexpr int kTile = 32;

__global__ void __launch_bounds__(kTile* kTile) matmul_tiled_kernel(GemmArgs g) {
  __shared__ float a_tile[kTile][kTile];
  // One column of padding: the transposed store below writes down a column.
  __shared__ float b_tile[kTile][kTile + 1];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const TileIndex tile = tile_of_block(ceil_div(g.N, kTile));
  const std::int64_t m0 = tile.row * kTile, n0 = tile.col * kTile;
  const std::int64_t m = m0 + ty, n = n0 + tx;
  float acc = 0.0f;
  for (std::int64_t k0 = 0; k0 < g.K; k0 += kTile) {
    a_tile[ty][tx] = (m < g.M && k0 + tx < g.K) ? g.a[m * g.K + k0 + tx] : 0.0f;
    if (g.transpose_b) {
      // B is [N,K]: read along K (coalesced), store transposed so b_tile is [k][n].
      const std::int64_t bn = n0 + ty;
      b_tile[tx][ty] = (bn < g.N && k0 + tx < g.K) ? g.b[bn * g.K + k0 + tx] : 0.0f;
    } else {
      b_tile[ty][tx] = (k0 + ty < g.K && n < g.N) ? g.b[(k0 + ty) * g.N + n] : 0.0f;
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < kTile; ++kk) acc += a_tile[ty][kk] * b_tile[kk][tx];
    __syncthreads();
  }
  if (m < g.M && n < g.N) g.c[m * g.N + n] = acc + (g.bias != nullptr ? g.bias[n] : 0.0f);
}

}  // namespace

void launch_matmul_tiled(const GemmArgs& g, cudaStream_t stream) {
  const dim3 block(kTile, kTile);
  launch(matmul_tiled_kernel, tiles_grid(ceil_div(g.M, kTile), ceil_div(g.N, kTile), "matmul"),
         block, 0, stream, g);
  AIGC_CUDA_CHECK_LAUNCH();
}

}  // namespace aigc::cuda
