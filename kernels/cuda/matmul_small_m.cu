// The `cuda` matmul for a few rows (M <= kSmallM: a decode step multiplies one row by every
// weight matrix). Such a product streams B once and does 2 FLOPs per element of B, so it is
// bound by memory bandwidth, and a 128 x 128 tile kernel would give GPT-2's 768-column
// projections 6 blocks for 132 SMs. Here every block streams its own slice of B:
//   B [K, N] (the weights): a block takes 16 columns and one chunk of K (split-K), its 256
//     threads 16 columns x 16 interleaved rows, so a warp reads two rows' 64 contiguous bytes
//     per step; partial sums go to a workspace [splits, M, N] and a second kernel adds them
//     up (in a fixed order: the result does not depend on scheduling) with the bias;
//   B [N, K] (transposed: the tied output embedding): a warp per column, lanes along its
//     contiguous row, float4 where the layout allows, a shuffle sum at the end.
#include "kernels/cuda/check.hpp"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/matmul_variants.hpp"
#include "kernels/cuda/reduce.cuh"

namespace aigc::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kCols = 16, kRowLanes = kThreads / kCols;  // a block's columns, rows in flight
constexpr int kChunk = 256;                              // rows of B per block

__global__ void __launch_bounds__(kThreads)
    small_m_partial_kernel(GemmArgs g, std::int64_t splits, float* partial) {
  __shared__ float a_chunk[kSmallM][kChunk];
  __shared__ float sums[kRowLanes][kSmallM][kCols];
  const std::int64_t col_tiles = ceil_div(g.N, kCols);
  const std::int64_t split = std::int64_t{blockIdx.x} / col_tiles;
  const std::int64_t n = (std::int64_t{blockIdx.x} % col_tiles) * kCols + threadIdx.x % kCols;
  const int lane_row = threadIdx.x / kCols;
  const std::int64_t k0 = split * kChunk, k1 = min64(g.K, k0 + kChunk);
  for (int e = threadIdx.x; e < kSmallM * kChunk; e += kThreads) {
    const int r = e / kChunk, k = e % kChunk;
    a_chunk[r][k] = (r < g.M && k0 + k < k1) ? g.a[r * g.K + k0 + k] : 0.0f;
  }
  __syncthreads();
  float acc[kSmallM] = {};
  if (n < g.N) {
#pragma unroll 4
    for (std::int64_t k = k0 + lane_row; k < k1; k += kRowLanes) {
      const float b = g.b[k * g.N + n];
#pragma unroll
      for (int r = 0; r < kSmallM; ++r) acc[r] += a_chunk[r][k - k0] * b;
    }
  }
#pragma unroll
  for (int r = 0; r < kSmallM; ++r) sums[lane_row][r][threadIdx.x % kCols] = acc[r];
  __syncthreads();
  if (lane_row == 0 && n < g.N) {
    for (int r = 0; r < g.M; ++r) {
      float total = 0.0f;
      for (int l = 0; l < kRowLanes; ++l) total += sums[l][r][threadIdx.x];
      partial[(split * g.M + r) * g.N + n] = total;
    }
  }
}

__global__ void __launch_bounds__(kThreads)
    small_m_sum_kernel(GemmArgs g, std::int64_t splits, const float* partial) {
  const std::int64_t e = std::int64_t{blockIdx.x} * kThreads + threadIdx.x;  // over M * N
  if (e >= g.M * g.N) return;
  const std::int64_t n = e % g.N;
  float total = g.bias != nullptr ? g.bias[n] : 0.0f;
  for (std::int64_t s = 0; s < splits; ++s) total += partial[s * g.M * g.N + e];
  g.c[e] = total;
}

constexpr int kWarps = kThreads / 32;

__global__ void __launch_bounds__(kThreads) small_m_transposed_kernel(GemmArgs g, bool vec) {
  const std::int64_t n = std::int64_t{blockIdx.x} * kWarps + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (n >= g.N) return;  // the whole warp: its shuffles below stay full
  const float* b = g.b + n * g.K;
  float acc[kSmallM] = {};
  if (vec) {  // K % 4 == 0 and 16-byte aligned rows of A and B
    for (std::int64_t k = 4 * lane; k < g.K; k += 128) {
      const float4 bv = *reinterpret_cast<const float4*>(b + k);
#pragma unroll
      for (int r = 0; r < kSmallM; ++r) {
        if (r < g.M) {
          const float4 av = *reinterpret_cast<const float4*>(g.a + r * g.K + k);
          acc[r] += av.x * bv.x + av.y * bv.y + av.z * bv.z + av.w * bv.w;
        }
      }
    }
  } else {
    for (std::int64_t k = lane; k < g.K; k += 32) {
      const float bk = b[k];
#pragma unroll
      for (int r = 0; r < kSmallM; ++r) {
        if (r < g.M) acc[r] += g.a[r * g.K + k] * bk;
      }
    }
  }
#pragma unroll
  for (int r = 0; r < kSmallM; ++r) acc[r] = warp_sum(acc[r]);
  if (lane == 0) {
    for (int r = 0; r < g.M; ++r)
      g.c[r * g.N + n] = acc[r] + (g.bias != nullptr ? g.bias[n] : 0.0f);
  }
}

std::int64_t splits_of(const GemmArgs& g) { return ceil_div(g.K, kChunk); }

}  // namespace

std::int64_t matmul_small_m_workspace_floats(const GemmArgs& g) {
  return g.transpose_b ? 0 : splits_of(g) * g.M * g.N;
}

void launch_matmul_small_m(const GemmArgs& g, float* workspace, cudaStream_t stream) {
  if (g.M > kSmallM) {
    throw std::invalid_argument("small-M matmul: " + std::to_string(g.M) + " rows (at most " +
                                std::to_string(kSmallM) + ")");
  }
  if (g.transpose_b) {
    const bool vec = g.K % 4 == 0 && aligned16(g.a) && aligned16(g.b);
    launch(small_m_transposed_kernel, grid_dim(ceil_div(g.N, kWarps), "matmul N", true), kThreads,
           0, stream, g, vec);
    AIGC_CUDA_CHECK_LAUNCH();
    return;
  }
  if (workspace == nullptr) throw std::invalid_argument("small-M matmul: no workspace");
  const std::int64_t splits = splits_of(g);
  launch(small_m_partial_kernel, tiles_grid(splits, ceil_div(g.N, kCols), "matmul"), kThreads, 0,
         stream, g, splits, workspace);
  AIGC_CUDA_CHECK_LAUNCH();
  launch(small_m_sum_kernel, grid_dim(ceil_div(g.M * g.N, kThreads), "matmul M*N", true), kThreads,
         0, stream, g, splits, static_cast<const float*>(workspace));
  AIGC_CUDA_CHECK_LAUNCH();
}

}  // namespace aigc::cuda
