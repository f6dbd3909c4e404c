// Attention for a decode step: one block of 256 threads per query (so a single query
// still spreads over many SMs' worth of threads), three phases over the cache:
//   1. scores: a warp per key, lanes across D (the key row is one coalesced read);
//   2. softmax over the L scores kept in shared memory;
//   3. P V: a warp per key again, lanes across D, partial rows summed across warps.
// The cache is read once, which is what bounds a decode step's attention.
#include <cmath>

#include "kernels/cuda/attention_decode.hpp"
#include "kernels/cuda/check.hpp"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/reduce.cuh"

namespace aigc::cuda {
namespace {

constexpr int kThreads = 256, kWarps = kThreads / 32;
constexpr int kMaxLanesD = kFlashMaxHeadDim / 32;  // D values per lane
// Static shared memory besides the scores: q, the per-warp partial outputs, reduce scratch.
constexpr std::size_t kStaticShared =
    sizeof(float) * (kFlashMaxHeadDim + kWarps * kFlashMaxHeadDim + 32);

__global__ void __launch_bounds__(kThreads) decode_attention_kernel(AttentionArgs a) {
  extern __shared__ float scores[];  // [visible]
  __shared__ float q[kFlashMaxHeadDim];
  __shared__ float partial[kWarps][kFlashMaxHeadDim];
  __shared__ float scratch[32];
  const std::int64_t row = blockIdx.x;  // over B*H*S
  const std::int64_t bh = row / a.S, i = row % a.S;
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const std::int64_t visible = a.L - a.S + i + 1;
  const float scale = 1.0f / sqrtf(float(a.D));
  const float* k = a.k + bh * a.capacity * a.D;
  const float* v = a.v + bh * a.capacity * a.D;

  for (int d = threadIdx.x; d < a.D; d += kThreads) q[d] = a.q[row * a.D + d] * scale;
  __syncthreads();

  float local_max = -FLT_MAX;
  for (std::int64_t j = warp; j < visible; j += kWarps) {
    float dot = 0.0f;
    for (int d = lane; d < a.D; d += 32) dot += q[d] * k[j * a.D + d];
    dot = warp_sum(dot);
    if (lane == 0) scores[j] = dot;
    local_max = fmaxf(local_max, dot);  // every lane holds the sum after the xor reduction
  }
  const float m = block_reduce<true>(local_max, scratch);  // its barrier publishes scores too
  float local_sum = 0.0f;
  for (std::int64_t j = threadIdx.x; j < visible; j += kThreads) {
    const float p = expf(scores[j] - m);
    scores[j] = p;
    local_sum += p;
  }
  const float sum = block_reduce<false>(local_sum, scratch);

  float acc[kMaxLanesD] = {};
  for (std::int64_t j = warp; j < visible; j += kWarps) {
    const float p = scores[j];
#pragma unroll
    for (int r = 0; r < kMaxLanesD; ++r) {
      const int d = lane + 32 * r;
      if (d < a.D) acc[r] += p * v[j * a.D + d];
    }
  }
#pragma unroll
  for (int r = 0; r < kMaxLanesD; ++r) {
    const int d = lane + 32 * r;
    if (d < a.D) partial[warp][d] = acc[r];
  }
  __syncthreads();
  for (int d = threadIdx.x; d < a.D; d += kThreads) {
    float total = 0.0f;
    for (int w = 0; w < kWarps; ++w) total += partial[w][d];
    a.o[row * a.D + d] = total / sum;
  }
}

std::size_t max_dynamic_shared() {
  // Once per process: the opt-in limit of device 0 (the backends use device 0).
  static const std::size_t limit = [] {
    int device = 0, optin = 0;
    AIGC_CUDA_CHECK(cudaGetDevice(&device));
    AIGC_CUDA_CHECK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
    const std::size_t dynamic = std::size_t(optin) > kStaticShared ? optin - kStaticShared : 0;
    AIGC_CUDA_CHECK(cudaFuncSetAttribute(decode_attention_kernel,
                                         cudaFuncAttributeMaxDynamicSharedMemorySize,
                                         int(dynamic)));
    return dynamic;
  }();
  return limit;
}

}  // namespace

bool decode_attention_fits(std::int64_t L) {
  return L >= 1 && std::size_t(L) * sizeof(float) <= max_dynamic_shared();
}

void launch_attention_decode(const AttentionArgs& a, cudaStream_t stream) {
  const std::size_t shared = std::size_t(a.L) * sizeof(float);
  decode_attention_kernel<<<grid_dim(a.B * a.H * a.S, "attention rows", true), kThreads, shared,
                            stream>>>(a);
  AIGC_CUDA_CHECK_LAUNCH();
}

}  // namespace aigc::cuda
