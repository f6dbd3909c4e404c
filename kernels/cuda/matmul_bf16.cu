// Step 3: the tensor cores. Operands are read as fp32, rounded to bf16 on their way into
// shared memory, and multiplied with WMMA 16x16x16 bf16 fragments accumulating in fp32:
// a 128x128 block tile, 8 warps of 64x32 each (4x2 fragments). The result differs from
// fp32 by the operands' rounding (2^-8 relative each), which the verification allows for.
#include <cuda_bf16.h>
#include <mma.h>

#include <type_traits>

#include "kernels/cuda/check.hpp"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/matmul_variants.hpp"

namespace aigc::cuda {
namespace {

namespace wmma = nvcuda::wmma;

constexpr int kBlockM = 128, kBlockN = 128, kBlockK = 32, kThreads = 256;
constexpr int kFrag = 16;
// Leading dimensions padded by 8 bf16 (16 bytes): keeps WMMA's 32-byte alignment for
// every fragment start while moving consecutive rows to other banks.
constexpr int kLdK = kBlockK + 8;  // tiles stored [rows][k]
constexpr int kLdN = kBlockN + 8;  // B stored [k][n]

__device__ __forceinline__ float guarded(const float* p, std::int64_t row, std::int64_t rows,
                                         std::int64_t col, std::int64_t cols, std::int64_t ld) {
  return (row < rows && col < cols) ? p[row * ld + col] : 0.0f;
}

// B is [K,N] (row_major fragments over b_tile[k][n]) or, transposed, [N,K] (col_major
// fragments over b_tile[n][k]).
template <bool kTransposeB>
// Two blocks per SM: at most 128 registers a thread.
__global__ void __launch_bounds__(kThreads, 2) matmul_bf16_kernel(GemmArgs g) {
  using BLayout = typename std::conditional<kTransposeB, wmma::col_major, wmma::row_major>::type;
  constexpr int kBTileElements = kTransposeB ? kBlockN * kLdK : kBlockK * kLdN;
  __shared__ __align__(128) __nv_bfloat16 a_tile[kBlockM * kLdK];
  __shared__ __align__(128) __nv_bfloat16 b_tile[kBTileElements];
  __shared__ __align__(128) float scratch[kThreads / 32][kFrag * kFrag];

  const int t = threadIdx.x, warp = t / 32, lane = t % 32;
  const int warp_m = warp / 4, warp_n = warp % 4;  // 2 x 4 warps, each 64 x 32
  // Row tiles on grid.x (2^31 - 1 of them), column tiles on y (65535: N up to 8.4 million).
  const std::int64_t m0 = std::int64_t{blockIdx.x} * kBlockM,
                     n0 = std::int64_t{blockIdx.y} * kBlockN;

  wmma::fragment<wmma::accumulator, kFrag, kFrag, kFrag, float> acc[4][2];
#pragma unroll
  for (int i = 0; i < 4; ++i) {
#pragma unroll
    for (int j = 0; j < 2; ++j) wmma::fill_fragment(acc[i][j], 0.0f);
  }

  for (std::int64_t k0 = 0; k0 < g.K; k0 += kBlockK) {
    // 128 x 32 operand tiles: each thread converts 16 elements of each; consecutive threads
    // take consecutive k (A, transposed B) or n (B), so the fp32 reads are coalesced.
    for (int e = t; e < kBlockM * kBlockK; e += kThreads) {
      const int row = e / kBlockK, k = e % kBlockK;
      a_tile[row * kLdK + k] = __float2bfloat16_rn(guarded(g.a, m0 + row, g.M, k0 + k, g.K, g.K));
    }
    if (kTransposeB) {
      for (int e = t; e < kBlockN * kBlockK; e += kThreads) {
        const int n = e / kBlockK, k = e % kBlockK;
        b_tile[n * kLdK + k] = __float2bfloat16_rn(guarded(g.b, n0 + n, g.N, k0 + k, g.K, g.K));
      }
    } else {
      for (int e = t; e < kBlockK * kBlockN; e += kThreads) {
        const int k = e / kBlockN, n = e % kBlockN;
        b_tile[k * kLdN + n] = __float2bfloat16_rn(guarded(g.b, k0 + k, g.K, n0 + n, g.N, g.N));
      }
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < kBlockK; kk += kFrag) {
      wmma::fragment<wmma::matrix_a, kFrag, kFrag, kFrag, __nv_bfloat16, wmma::row_major> fa[4];
      wmma::fragment<wmma::matrix_b, kFrag, kFrag, kFrag, __nv_bfloat16, BLayout> fb[2];
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        wmma::load_matrix_sync(fa[i], a_tile + (warp_m * 64 + i * kFrag) * kLdK + kk, kLdK);
      }
#pragma unroll
      for (int j = 0; j < 2; ++j) {
        const int n = warp_n * 32 + j * kFrag;
        if (kTransposeB) {
          wmma::load_matrix_sync(fb[j], b_tile + n * kLdK + kk, kLdK);
        } else {
          wmma::load_matrix_sync(fb[j], b_tile + kk * kLdN + n, kLdN);
        }
      }
#pragma unroll
      for (int i = 0; i < 4; ++i) {
#pragma unroll
        for (int j = 0; j < 2; ++j) wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
      }
    }
    __syncthreads();
  }

  // Each fragment goes through the warp's scratch so edges and the bias are handled per element.
  float* s = scratch[warp];
#pragma unroll
  for (int i = 0; i < 4; ++i) {
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      wmma::store_matrix_sync(s, acc[i][j], kFrag, wmma::mem_row_major);
      __syncwarp();
      const std::int64_t row0 = m0 + warp_m * 64 + i * kFrag;
      const std::int64_t col0 = n0 + warp_n * 32 + j * kFrag;
      for (int e = lane; e < kFrag * kFrag; e += 32) {
        const std::int64_t m = row0 + e / kFrag, n = col0 + e % kFrag;
        if (m < g.M && n < g.N) g.c[m * g.N + n] = s[e] + (g.bias != nullptr ? g.bias[n] : 0.0f);
      }
      __syncwarp();
    }
  }
}

}  // namespace

void launch_matmul_bf16(const GemmArgs& g, cudaStream_t stream) {
  const dim3 grid(grid_dim(ceil_div(g.M, kBlockM), "matmul M", true),
                  grid_dim(ceil_div(g.N, kBlockN), "matmul N"));
  if (g.transpose_b) {
    launch(matmul_bf16_kernel<true>, grid, kThreads, 0, stream, g);
  } else {
    launch(matmul_bf16_kernel<false>, grid, kThreads, 0, stream, g);
  }
  AIGC_CUDA_CHECK_LAUNCH();
}

}  // namespace aigc::cuda
