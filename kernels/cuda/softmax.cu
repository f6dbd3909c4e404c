// The causal softmax over a materialized score matrix, shared by the naive attention and the
// cuBLAS composition: one block per row.
#include <cmath>

#include "kernels/cuda/check.hpp"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/launch.hpp"
#include "kernels/cuda/reduce.cuh"

namespace aigc::cuda {
namespace {

constexpr int kThreads = 256;

__global__ void __launch_bounds__(kThreads)
    causal_softmax_kernel(float* scores, std::int64_t S, std::int64_t L, float scale) {
  __shared__ float scratch[32];
  const std::int64_t row = blockIdx.x;  // over batches * S
  const std::int64_t i = row % S;
  float* x = scores + row * L;
  const std::int64_t visible = L - S + i + 1;  // keys 0 .. L-S+i
  float m = -FLT_MAX;
  for (std::int64_t j = threadIdx.x; j < visible; j += kThreads) m = fmaxf(m, x[j] * scale);
  m = block_reduce<true>(m, scratch);
  float sum = 0.0f;
  for (std::int64_t j = threadIdx.x; j < visible; j += kThreads) {
    const float e = expf(x[j] * scale - m);
    x[j] = e;
    sum += e;
  }
  sum = block_reduce<false>(sum, scratch);
  const float inv = 1.0f / sum;
  for (std::int64_t j = threadIdx.x; j < L; j += kThreads) x[j] = j < visible ? x[j] * inv : 0.0f;
}

}  // namespace

void launch_causal_softmax(float* scores, std::int64_t batches, std::int64_t S, std::int64_t L,
                           float scale, cudaStream_t stream) {
  launch(causal_softmax_kernel, grid_dim(batches * S, "softmax rows", true), kThreads, 0, stream,
         scores, S, L, scale);
  AIGC_CUDA_CHECK_LAUNCH();
}

}  // namespace aigc::cuda
