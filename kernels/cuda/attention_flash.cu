// Fused causal attention (FlashAttention-style, fp32): each block takes 64 queries of one
// head, one query per thread, with the query and its output row in registers; key/value
// tiles stream through shared memory and the softmax is computed online (running maximum
// and sum, the output rescaled when the maximum grows), so the S x L scores never exist.
// Few queries (a decode step) go to attention_decode.cu instead: one thread per query would
// leave the GPU idle.
#include <cmath>

#include "kernels/cuda/attention_decode.hpp"
#include "kernels/cuda/check.hpp"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/launch.hpp"

namespace aigc::cuda {
namespace {

constexpr int kQueries = 64;  // per block, one per thread
constexpr int kChunk = 8;     // keys scored together: one rescale per chunk, 8 independent dots

// kDmax: the head dimension rounded up to a compiled size (the padding is zero);
// kKeys: keys per shared-memory tile (K and V tiles together stay within 48 KiB).
template <int kDmax, int kKeys>
__global__ void __launch_bounds__(kQueries) flash_attention_kernel(AttentionArgs a) {
  __shared__ __align__(16) float k_tile[kKeys][kDmax];
  __shared__ __align__(16) float v_tile[kKeys][kDmax];
  const std::int64_t bh = blockIdx.y;
  // Heaviest blocks (latest queries see the most keys) first, for a shorter tail.
  const std::int64_t q0 = std::int64_t(gridDim.x - 1 - blockIdx.x) * kQueries;
  const std::int64_t i = q0 + threadIdx.x;
  const bool active = i < a.S;
  const std::int64_t offset = a.L - a.S;  // query i stands at position offset + i
  const std::int64_t my_last_key = offset + i;
  const std::int64_t block_keys = min64(a.L, offset + min64(q0 + kQueries, a.S));

  const float scale = 1.0f / sqrtf(float(a.D));
  float q[kDmax], o[kDmax];
  const float* qrow = a.q + (bh * a.S + (active ? i : 0)) * a.D;
#pragma unroll
  for (int d = 0; d < kDmax; ++d) {
    q[d] = (active && d < a.D) ? qrow[d] * scale : 0.0f;
    o[d] = 0.0f;
  }
  float running_max = -INFINITY, running_sum = 0.0f;

  const float* kbase = a.k + bh * a.capacity * a.D;
  const float* vbase = a.v + bh * a.capacity * a.D;
  for (std::int64_t j0 = 0; j0 < block_keys; j0 += kKeys) {
    // Rows past L (unfilled cache) and columns past D are zeros, never read from memory.
    for (int e = threadIdx.x; e < kKeys * kDmax; e += kQueries) {
      const int r = e / kDmax, d = e % kDmax;
      const bool ok = j0 + r < a.L && d < a.D;
      k_tile[r][d] = ok ? kbase[(j0 + r) * a.D + d] : 0.0f;
      v_tile[r][d] = ok ? vbase[(j0 + r) * a.D + d] : 0.0f;
    }
    __syncthreads();
    const std::int64_t visible = active ? min64(kKeys, my_last_key + 1 - j0) : 0;
    for (int c0 = 0; c0 < visible; c0 += kChunk) {  // the chunk's first key is always visible
      float s[kChunk];
      float chunk_max = -INFINITY;
#pragma unroll
      for (int c = 0; c < kChunk; ++c) {
        float dot = 0.0f;
#pragma unroll
        for (int d = 0; d < kDmax; d += 4) {
          const float4 kv = *reinterpret_cast<const float4*>(&k_tile[c0 + c][d]);
          dot += q[d] * kv.x + q[d + 1] * kv.y + q[d + 2] * kv.z + q[d + 3] * kv.w;
        }
        s[c] = c0 + c < visible ? dot : -INFINITY;
        chunk_max = fmaxf(chunk_max, s[c]);
      }
      const float new_max = fmaxf(running_max, chunk_max);
      const float correction = expf(running_max - new_max);  // 0 on the first chunk
      running_sum *= correction;
#pragma unroll
      for (int d = 0; d < kDmax; ++d) o[d] *= correction;
#pragma unroll
      for (int c = 0; c < kChunk; ++c) {
        const float p = expf(s[c] - new_max);  // exactly 0 for a masked key
        running_sum += p;
        if (p != 0.0f) {
#pragma unroll
          for (int d = 0; d < kDmax; d += 4) {
            const float4 vv = *reinterpret_cast<const float4*>(&v_tile[c0 + c][d]);
            o[d] += p * vv.x;
            o[d + 1] += p * vv.y;
            o[d + 2] += p * vv.z;
            o[d + 3] += p * vv.w;
          }
        }
      }
      running_max = new_max;
    }
    __syncthreads();
  }
  if (!active) return;
  const float inv = 1.0f / running_sum;
  float* orow = a.o + (bh * a.S + i) * a.D;
#pragma unroll
  for (int d = 0; d < kDmax; ++d) {
    if (d < a.D) orow[d] = o[d] * inv;
  }
}

template <int kDmax, int kKeys>
void launch_flash(const AttentionArgs& a, cudaStream_t stream) {
  const dim3 grid(grid_dim(ceil_div(a.S, kQueries), "attention S", true),
                  grid_dim(a.B * a.H, "attention B*H"));
  flash_attention_kernel<kDmax, kKeys><<<grid, kQueries, 0, stream>>>(a);
  AIGC_CUDA_CHECK_LAUNCH();
}

}  // namespace

bool flash_attention_supports(std::int64_t D) { return D >= 1 && D <= kFlashMaxHeadDim; }

void prepare_attention_flash(std::int64_t L) { decode_attention_fits(L); }

void launch_attention_flash(const AttentionArgs& a, cudaStream_t stream) {
  if (!flash_attention_supports(a.D)) {
    throw std::invalid_argument("flash attention: head dimension " + std::to_string(a.D) +
                                " outside 1.." + std::to_string(kFlashMaxHeadDim));
  }
  if (a.S <= kDecodeMaxQueries && decode_attention_fits(a.L)) {
    return launch_attention_decode(a, stream);
  }
  if (a.D <= 32) return launch_flash<32, 64>(a, stream);
  if (a.D <= 64) return launch_flash<64, 64>(a, stream);
  return launch_flash<128, 32>(a, stream);
}

}  // namespace aigc::cuda
