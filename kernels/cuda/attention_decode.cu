// Attention for a decode step (flash-decoding): a step's few queries would occupy one block
// each (12 for a GPT-2 step, on a GPU of 132 SMs), so the cache is split along L instead. Each
// block takes one query and one chunk of keys, in three phases over its chunk:
//   1. scores: a warp per key, lanes across D (the key row is one coalesced read), kept in
//      shared memory;
//   2. the chunk's maximum and the exponentials' sum;
//   3. P V: a warp per key again, lanes across D, partial rows summed across warps;
// and writes its unnormalized output with its maximum and sum. A second, small kernel combines
// a query's chunks: every partial output rescaled by exp(max_s - max) and divided by the total.
// The cache is read once, which is what bounds a decode step's attention.
#include <algorithm>
#include <cmath>

#include "kernels/cuda/attention_decode.hpp"
#include "kernels/cuda/check.hpp"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/reduce.cuh"

namespace aigc::cuda {
namespace {

constexpr int kThreads = 256, kWarps = kThreads / 32;
constexpr int kMaxLanesD = kFlashMaxHeadDim / 32;  // D values per lane
constexpr int kMaxChunk = 4096;                    // keys per block: 16 KiB of scores
constexpr int kMinChunk = 64;

// Workspace layout per (query, split): D partial-output floats, then the maximum and the sum.
__device__ __forceinline__ float* partial_of(float* ws, std::int64_t row, std::int64_t split,
                                             std::int64_t splits, std::int64_t D) {
  return ws + (row * splits + split) * (D + 2);
}

__global__ void __launch_bounds__(kThreads)
    decode_partial_kernel(AttentionArgs a, std::int64_t splits, std::int64_t chunk, float* ws) {
  __shared__ float scores[kMaxChunk];
  __shared__ float q[kFlashMaxHeadDim];
  __shared__ float partial[kWarps][kFlashMaxHeadDim];
  __shared__ float scratch[32];
  const std::int64_t row = std::int64_t{blockIdx.x} / splits;  // over B*H*S
  const std::int64_t split = std::int64_t{blockIdx.x} % splits;
  const std::int64_t bh = row / a.S, i = row % a.S;
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const std::int64_t visible = a.L - a.S + i + 1;  // keys 0 .. visible - 1
  const std::int64_t begin = split * chunk, end = min64(begin + chunk, visible);
  float* out = partial_of(ws, row, split, splits, a.D);
  if (begin >= end) {  // an earlier query's causal mask ends before this chunk
    for (int d = threadIdx.x; d < a.D; d += kThreads) out[d] = 0.0f;
    if (threadIdx.x == 0) {
      out[a.D] = -INFINITY;
      out[a.D + 1] = 0.0f;
    }
    return;
  }
  const float scale = 1.0f / sqrtf(float(a.D));
  const float* k = a.k + a.kv_offset(bh);
  const float* v = a.v + a.kv_offset(bh);

  for (int d = threadIdx.x; d < a.D; d += kThreads) q[d] = a.q[row * a.D + d] * scale;
  __syncthreads();

  float local_max = -FLT_MAX;
  for (std::int64_t j = begin + warp; j < end; j += kWarps) {
    float dot = 0.0f;
    for (int d = lane; d < a.D; d += 32) dot += q[d] * k[j * a.D + d];
    dot = warp_sum(dot);
    if (lane == 0) scores[j - begin] = dot;
    local_max = fmaxf(local_max, dot);  // every lane holds the sum after the xor reduction
  }
  const float m = block_reduce<true>(local_max, scratch);  // its barrier publishes scores too
  float local_sum = 0.0f;
  for (std::int64_t j = threadIdx.x; j < end - begin; j += kThreads) {
    const float p = expf(scores[j] - m);
    scores[j] = p;
    local_sum += p;
  }
  const float sum = block_reduce<false>(local_sum, scratch);

  float acc[kMaxLanesD] = {};
  for (std::int64_t j = begin + warp; j < end; j += kWarps) {
    const float p = scores[j - begin];
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
    out[d] = total;
  }
  if (threadIdx.x == 0) {
    out[a.D] = m;
    out[a.D + 1] = sum;
  }
}

// One block per query: o = sum_s exp(m_s - M) o_s / sum_s exp(m_s - M) l_s, M = max_s m_s. Key 0
// is visible to every query, so at least one split has a finite maximum.
__global__ void __launch_bounds__(128)
    decode_combine_kernel(AttentionArgs a, std::int64_t splits, const float* ws) {
  const std::int64_t row = blockIdx.x;
  const float* first = ws + row * splits * (a.D + 2);
  float M = -INFINITY;
  for (std::int64_t s = 0; s < splits; ++s) M = fmaxf(M, first[s * (a.D + 2) + a.D]);
  float total = 0.0f;
  for (std::int64_t s = 0; s < splits; ++s) {
    const float* p = first + s * (a.D + 2);
    total += expf(p[a.D] - M) * p[a.D + 1];
  }
  const float inv = 1.0f / total;
  for (int d = threadIdx.x; d < a.D; d += blockDim.x) {
    float acc = 0.0f;
    for (std::int64_t s = 0; s < splits; ++s) {
      const float* p = first + s * (a.D + 2);
      acc += expf(p[a.D] - M) * p[d];
    }
    a.o[row * a.D + d] = acc * inv;
  }
}

}  // namespace

DecodeSplit plan_decode_split(const AttentionArgs& a) {
  // Enough blocks for two per multiprocessor, chunks of at least kMinChunk keys (shorter ones
  // cost more in the combine than they save) and at most kMaxChunk (the shared scores).
  const std::int64_t rows = a.B * a.H * a.S;
  const std::int64_t wanted = ceil_div(2 * std::int64_t{multiprocessor_count()}, rows);
  DecodeSplit p;
  p.splits = std::max<std::int64_t>(1, std::min(wanted, ceil_div(a.L, kMinChunk)));
  p.chunk = ceil_div(a.L, p.splits);
  if (p.chunk > kMaxChunk) {
    p.chunk = kMaxChunk;
    p.splits = ceil_div(a.L, kMaxChunk);
  }
  p.workspace_floats = rows * p.splits * (a.D + 2);
  return p;
}

void launch_attention_decode(const AttentionArgs& a, float* workspace, cudaStream_t stream) {
  const DecodeSplit p = plan_decode_split(a);
  const std::int64_t rows = a.B * a.H * a.S;
  launch(decode_partial_kernel, tiles_grid(rows, p.splits, "decode attention"), kThreads, 0, stream,
         a, p.splits, p.chunk, workspace);
  AIGC_CUDA_CHECK_LAUNCH();
  launch(decode_combine_kernel, grid_dim(rows, "decode attention rows", true), 128, 0, stream, a,
         p.splits, workspace);
  AIGC_CUDA_CHECK_LAUNCH();
}

}  // namespace aigc::cuda
