// Step 2: each block computes a 128x128 tile of C and each of its 256 threads an 8x8
// sub-tile held in registers, so one shared-memory load feeds 8 multiply-adds instead of
// one. Global loads are float4 where the layout allows, the next K-slice is fetched into
// registers while the current one is multiplied, and a thread's 8 rows (and 8 columns) are
// two groups of 4, 64 apart, so a warp's float4 reads of a k-row are contiguous (no bank
// conflicts).
#include "kernels/cuda/check.hpp"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/matmul_variants.hpp"

namespace aigc::cuda {
namespace {

constexpr int kBlockM = 128, kBlockN = 128, kBlockK = 16, kThreads = 256;
// Padding of the k-major tiles: the transposed stores spread over two banks, not eight.
constexpr int kPad = 4;

// Four consecutive floats of one row (cols col..col+3), zero past `limit` or when the row is
// outside the matrix. `vector_ok`: the row stride and base allow an aligned float4 load.
__device__ __forceinline__ float4 load4(const float* row, std::int64_t col, std::int64_t limit,
                                        bool row_ok, bool vector_ok) {
  float4 v = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
  if (!row_ok) return v;
  if (vector_ok && col + 3 < limit) return *reinterpret_cast<const float4*>(row + col);
  if (col + 0 < limit) v.x = row[col + 0];
  if (col + 1 < limit) v.y = row[col + 1];
  if (col + 2 < limit) v.z = row[col + 2];
  if (col + 3 < limit) v.w = row[col + 3];
  return v;
}

struct TileLoader {
  // Two float4 per thread for each operand tile (128 x 16 floats = 512 float4).
  float4 a[2], b[2];
};

// Two blocks per SM (at most 128 registers a thread), so one block's loads overlap the
// other's arithmetic.
__global__ void __launch_bounds__(kThreads, 2)
    matmul_register_blocked_kernel(GemmArgs g, bool a_vec, bool b_vec) {
  __shared__ __align__(16) float a_tile[kBlockK][kBlockM + kPad];  // [k][m]
  __shared__ __align__(16) float b_tile[kBlockK][kBlockN + kPad];  // [k][n]
  const int t = threadIdx.x;
  const int tr = t / 16, tc = t % 16;
  // Row tiles on grid.x (2^31 - 1 of them), column tiles on y (65535: N up to 8.4 million).
  const std::int64_t m0 = std::int64_t{blockIdx.x} * kBlockM,
                     n0 = std::int64_t{blockIdx.y} * kBlockN;

  // Which global elements this thread loads: rows of a [rows, K]-layout tile (A, and B
  // when transposed) as (row, k quad), or k-rows of B [K, N] as (k, n quad).
  auto fetch = [&](std::int64_t k0, TileLoader& r) {
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int l = t + h * kThreads;
      const int row = l / 4, kq = (l % 4) * 4;
      const std::int64_t m = m0 + row;
      r.a[h] = load4(g.a + m * g.K, k0 + kq, g.K, m < g.M, a_vec);
      if (g.transpose_b) {
        const std::int64_t n = n0 + row;
        r.b[h] = load4(g.b + n * g.K, k0 + kq, g.K, n < g.N, b_vec);
      } else {
        const int krow = l / 32, nq = (l % 32) * 4;
        const std::int64_t k = k0 + krow;
        r.b[h] = load4(g.b + k * g.N, n0 + nq, g.N, k < g.K, b_vec);
      }
    }
  };
  auto store = [&](const TileLoader& r) {
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int l = t + h * kThreads;
      const int row = l / 4, kq = (l % 4) * 4;
      a_tile[kq + 0][row] = r.a[h].x;
      a_tile[kq + 1][row] = r.a[h].y;
      a_tile[kq + 2][row] = r.a[h].z;
      a_tile[kq + 3][row] = r.a[h].w;
      if (g.transpose_b) {
        b_tile[kq + 0][row] = r.b[h].x;
        b_tile[kq + 1][row] = r.b[h].y;
        b_tile[kq + 2][row] = r.b[h].z;
        b_tile[kq + 3][row] = r.b[h].w;
      } else {
        const int krow = l / 32, nq = (l % 32) * 4;
        *reinterpret_cast<float4*>(&b_tile[krow][nq]) = r.b[h];
      }
    }
  };

  float acc[8][8] = {};
  TileLoader next;
  fetch(0, next);
  store(next);
  __syncthreads();
  for (std::int64_t k0 = 0; k0 < g.K; k0 += kBlockK) {
    const bool has_next = k0 + kBlockK < g.K;
    if (has_next) fetch(k0 + kBlockK, next);  // in flight while this slice is multiplied
#pragma unroll
    for (int kk = 0; kk < kBlockK; ++kk) {
      const float4 a_lo = *reinterpret_cast<const float4*>(&a_tile[kk][tr * 4]);
      const float4 a_hi = *reinterpret_cast<const float4*>(&a_tile[kk][64 + tr * 4]);
      const float4 b_lo = *reinterpret_cast<const float4*>(&b_tile[kk][tc * 4]);
      const float4 b_hi = *reinterpret_cast<const float4*>(&b_tile[kk][64 + tc * 4]);
      const float ra[8] = {a_lo.x, a_lo.y, a_lo.z, a_lo.w, a_hi.x, a_hi.y, a_hi.z, a_hi.w};
      const float rb[8] = {b_lo.x, b_lo.y, b_lo.z, b_lo.w, b_hi.x, b_hi.y, b_hi.z, b_hi.w};
#pragma unroll
      for (int i = 0; i < 8; ++i) {
#pragma unroll
        for (int j = 0; j < 8; ++j) acc[i][j] += ra[i] * rb[j];
      }
    }
    __syncthreads();
    if (has_next) {
      store(next);
      __syncthreads();
    }
  }

  const bool c_vec = g.N % 4 == 0 && aligned16(g.c) && (g.bias == nullptr || aligned16(g.bias));
#pragma unroll
  for (int i = 0; i < 8; ++i) {
    const std::int64_t m = m0 + (i < 4 ? tr * 4 + i : 64 + tr * 4 + (i - 4));
    if (m >= g.M) continue;
    float* c_row = g.c + m * g.N;
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const std::int64_t n = n0 + half * 64 + tc * 4;
      float v[4];
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        v[j] = acc[i][half * 4 + j];
        if (g.bias != nullptr && n + j < g.N) v[j] += g.bias[n + j];
      }
      if (c_vec && n + 3 < g.N) {
        *reinterpret_cast<float4*>(c_row + n) = make_float4(v[0], v[1], v[2], v[3]);
      } else {
#pragma unroll
        for (int j = 0; j < 4; ++j) {
          if (n + j < g.N) c_row[n + j] = v[j];
        }
      }
    }
  }
}

}  // namespace

void launch_matmul_register_blocked(const GemmArgs& g, cudaStream_t stream) {
  // float4 loads need every row start 16-byte aligned: a 16-byte base and a stride of 4k floats.
  const bool a_vec = g.K % 4 == 0 && aligned16(g.a);
  const bool b_vec = (g.transpose_b ? g.K % 4 == 0 : g.N % 4 == 0) && aligned16(g.b);
  const dim3 grid(grid_dim(ceil_div(g.M, kBlockM), "matmul M", true),
                  grid_dim(ceil_div(g.N, kBlockN), "matmul N"));
  launch(matmul_register_blocked_kernel, grid, kThreads, 0, stream, g, a_vec, b_vec);
  AIGC_CUDA_CHECK_LAUNCH();
}

}  // namespace aigc::cuda
