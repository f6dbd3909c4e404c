// Attention as three kernels over a score matrix in global memory (B*H*S*L floats written
// and read twice): scores = Q K^T, causal softmax, O = P V. The baseline the fused kernel
// is measured against.
#include <cmath>

#include "kernels/cuda/check.hpp"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/launch.hpp"

namespace aigc::cuda {
namespace {

constexpr int kThreads = 256;

// Grid-stride over a flat index: any B*H, S and L fit one launch of a bounded grid.
unsigned stride_grid(std::int64_t n) {
  return static_cast<unsigned>(min64(ceil_div(n, kThreads), std::int64_t{1} << 20));
}

// One thread per (query, key), keys fastest; keys past a query's position are left for the
// softmax to mask (and never read, so an unfilled cache row cannot leak in).
__global__ void scores_kernel(AttentionArgs a, float* scores) {
  const std::int64_t total = a.B * a.H * a.S * a.L;
  for (std::int64_t e = std::int64_t{blockIdx.x} * blockDim.x + threadIdx.x; e < total;
       e += std::int64_t{gridDim.x} * blockDim.x) {
    const std::int64_t j = e % a.L, row = e / a.L;  // row over B*H*S
    const std::int64_t i = row % a.S, bh = row / a.S;
    float s = 0.0f;
    if (j <= a.L - a.S + i) {
      const float* q = a.q + row * a.D;
      const float* k = a.k + a.kv_offset(bh) + j * a.D;
      for (std::int64_t d = 0; d < a.D; ++d) s += q[d] * k[d];
    }
    scores[e] = s;
  }
}

// One thread per (query, d), d fastest: O[i,d] = sum_j P[i,j] V[j,d] over the visible keys.
__global__ void weighted_values_kernel(AttentionArgs a, const float* probs) {
  const std::int64_t total = a.B * a.H * a.S * a.D;
  for (std::int64_t e = std::int64_t{blockIdx.x} * blockDim.x + threadIdx.x; e < total;
       e += std::int64_t{gridDim.x} * blockDim.x) {
    const std::int64_t d = e % a.D, row = e / a.D;
    const std::int64_t i = row % a.S, bh = row / a.S;
    const float* p = probs + row * a.L;
    const float* v = a.v + a.kv_offset(bh) + d;
    const std::int64_t visible = a.L - a.S + i + 1;
    float acc = 0.0f;
    for (std::int64_t j = 0; j < visible; ++j) acc += p[j] * v[j * a.D];
    a.o[e] = acc;
  }
}

}  // namespace

void launch_attention_naive(const AttentionArgs& a, float* scores, cudaStream_t stream) {
  const std::int64_t BH = a.B * a.H;
  launch(scores_kernel, stride_grid(BH * a.S * a.L), kThreads, 0, stream, a, scores);
  AIGC_CUDA_CHECK_LAUNCH();
  launch_causal_softmax(scores, BH, a.S, a.L, 1.0f / std::sqrt(float(a.D)), stream);
  launch(weighted_values_kernel, stride_grid(BH * a.S * a.D), kThreads, 0, stream, a, scores);
  AIGC_CUDA_CHECK_LAUNCH();
}

}  // namespace aigc::cuda
