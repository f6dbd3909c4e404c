// Attention as three kernels over a score matrix in global memory (B*H*S*L floats written
// and read twice): scores = Q K^T, causal softmax, O = P V. The baseline the fused kernel
// is measured against.
#include <cmath>

#include "kernels/cuda/check.hpp"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/launch.hpp"

namespace aigc::cuda {
namespace {

// One thread per (query, key); keys past a query's position are left for the softmax to
// mask (and never read, so an unfilled cache row cannot leak in).
__global__ void scores_kernel(AttentionArgs a, float* scores) {
  const std::int64_t j = std::int64_t{blockIdx.x} * blockDim.x + threadIdx.x;
  const std::int64_t i = blockIdx.y, bh = blockIdx.z;
  if (j >= a.L) return;
  float s = 0.0f;
  if (j <= a.L - a.S + i) {
    const float* q = a.q + (bh * a.S + i) * a.D;
    const float* k = a.k + (bh * a.capacity + j) * a.D;
    for (std::int64_t d = 0; d < a.D; ++d) s += q[d] * k[d];
  }
  scores[(bh * a.S + i) * a.L + j] = s;
}

// One thread per (query, d): O[i,d] = sum_j P[i,j] V[j,d] over the visible keys.
__global__ void weighted_values_kernel(AttentionArgs a, const float* probs) {
  const std::int64_t d = std::int64_t{blockIdx.x} * blockDim.x + threadIdx.x;
  const std::int64_t i = std::int64_t{blockIdx.y} * blockDim.y + threadIdx.y, bh = blockIdx.z;
  if (d >= a.D || i >= a.S) return;
  const float* p = probs + (bh * a.S + i) * a.L;
  const float* v = a.v + bh * a.capacity * a.D + d;
  const std::int64_t visible = a.L - a.S + i + 1;
  float acc = 0.0f;
  for (std::int64_t j = 0; j < visible; ++j) acc += p[j] * v[j * a.D];
  a.o[(bh * a.S + i) * a.D + d] = acc;
}

}  // namespace

void launch_attention_naive(const AttentionArgs& a, float* scores, cudaStream_t stream) {
  const std::int64_t BH = a.B * a.H;
  const dim3 score_grid(grid_dim(ceil_div(a.L, 128), "attention L", true),
                        grid_dim(a.S, "attention S"), grid_dim(BH, "attention B*H"));
  scores_kernel<<<score_grid, 128, 0, stream>>>(a, scores);
  AIGC_CUDA_CHECK_LAUNCH();
  launch_causal_softmax(scores, BH, a.S, a.L, 1.0f / std::sqrt(float(a.D)), stream);
  const dim3 block(32, 8);
  const dim3 grid(grid_dim(ceil_div(a.D, 32), "attention D", true),
                  grid_dim(ceil_div(a.S, 8), "attention S"), grid_dim(BH, "attention B*H"));
  weighted_values_kernel<<<grid, block, 0, stream>>>(a, scores);
  AIGC_CUDA_CHECK_LAUNCH();
}

}  // namespace aigc::cuda
