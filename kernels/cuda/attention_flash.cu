// Fused causal attention (FlashAttention-style, fp32): each block takes a tile of queries of
// one head; key/value tiles stream through shared memory and the softmax is computed online
// (running maximum and sum, the output rescaled when the maximum grows), so the S x L scores
// never exist.
//
// Each query belongs to a group of kGroup consecutive threads of one warp, and each thread
// holds a slice of the query and of its output row (kDmax / kGroup floats, at most 16): the
// dot products are summed across the group with shuffles. Splitting D this way keeps D = 128
// in registers without spilling (one thread per query needs 256 floats for q and o), and
// gives a block of 128 threads 8 to 64 queries, so short sequences still make enough blocks
// to spread over the GPU (the launcher halves the query tile when the grid would not).
// Few queries (a decode step) go to attention_decode.cu instead.
#include <cmath>

#include "kernels/cuda/attention_decode.hpp"
#include "kernels/cuda/check.hpp"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/launch.hpp"

namespace aigc::cuda {
namespace {

constexpr int kThreads = 128;
constexpr int kChunk = 8;  // keys scored together: one rescale per chunk, 8 independent dots

// kDmax: the head dimension rounded up to a compiled size (the padding is zero);
// kGroup: threads per query (a power of two, at most 16).
template <int kDmax, int kGroup>
struct FlashConfig {
  static constexpr int kSlice = kDmax / kGroup;       // floats of q and o per thread
  static constexpr int kVecs = kSlice / 4;            // float4s of them
  static constexpr int kQueries = kThreads / kGroup;  // per block
  static constexpr int kKeys = 4096 / kDmax;          // per tile: K and V tiles 16 KiB each
  static_assert(kSlice % 4 == 0 && kVecs >= 1, "a thread's slice is whole float4s");
  static_assert(kGroup >= 1 && kGroup <= 16 && (kGroup & (kGroup - 1)) == 0, "group in a warp");
  static_assert(kKeys % kChunk == 0, "tiles hold whole chunks");
};

// Sum over the kGroup lanes of this thread's group (consecutive lanes, aligned): the mask
// names only the group, whose lanes always run together (they share one query).
template <int kGroup>
__device__ __forceinline__ float group_sum(float v, unsigned mask) {
#pragma unroll
  for (int offset = kGroup / 2; offset > 0; offset /= 2) v += __shfl_xor_sync(mask, v, offset);
  return v;
}

// Copies rows j0 .. j0 + kKeys - 1 of a [capacity, D] matrix into tile [kKeys][kDmax]; rows
// past L are zeros (an unfilled cache row is never read: a zero V row times a zero weight
// stays zero, where garbage could be NaN). Columns D .. kDmax - 1 are zeroed once, elsewhere.
template <int kDmax, int kKeys>
__device__ __forceinline__ void load_tile(float (*tile)[kDmax], const float* base, std::int64_t j0,
                                          std::int64_t L, std::int64_t D, bool vec) {
  const std::int64_t rows = min64(kKeys, L - j0);
  if (vec) {  // D % 4 == 0 and the base 16-byte aligned: whole float4s per row
    const int quads = int(D / 4);
    for (int e = threadIdx.x; e < kKeys * quads; e += kThreads) {
      const int r = e / quads, d = (e % quads) * 4;
      float4 v = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
      if (r < rows) v = *reinterpret_cast<const float4*>(base + (j0 + r) * D + d);
      *reinterpret_cast<float4*>(&tile[r][d]) = v;
    }
  } else {
    for (int e = threadIdx.x; e < kKeys * int(D); e += kThreads) {
      const int r = e / int(D), d = e % int(D);
      tile[r][d] = r < rows ? base[(j0 + r) * D + d] : 0.0f;
    }
  }
}

template <int kDmax, int kGroup>
__global__ void __launch_bounds__(kThreads, 4) flash_attention_kernel(AttentionArgs a, bool vec) {
  using C = FlashConfig<kDmax, kGroup>;
  __shared__ __align__(16) float k_tile[C::kKeys][kDmax];
  __shared__ __align__(16) float v_tile[C::kKeys][kDmax];

  const std::int64_t BH = a.B * a.H, q_blocks = ceil_div(a.S, C::kQueries);
  // Heaviest query tiles (the latest queries see the most keys) first, every head's, for a
  // shorter tail; the flat grid takes any B * H.
  const std::int64_t bh = std::int64_t{blockIdx.x} % BH;
  const std::int64_t q0 = (q_blocks - 1 - std::int64_t{blockIdx.x} / BH) * C::kQueries;
  const int lane = threadIdx.x % 32, slot = threadIdx.x % kGroup;
  const unsigned group_mask = ((1u << kGroup) - 1u) << (lane & ~(kGroup - 1));
  const std::int64_t i = q0 + threadIdx.x / kGroup;
  const bool active = i < a.S;
  const std::int64_t offset = a.L - a.S;  // query i stands at position offset + i
  const std::int64_t my_last_key = offset + i;
  const std::int64_t block_keys = min64(a.L, offset + min64(q0 + C::kQueries, a.S));

  // Zero the padding columns once: the loads never write them, and the padded q is zero, but
  // uninitialized shared memory could hold NaN, and 0 * NaN is NaN.
  if (a.D < kDmax) {
    for (int e = threadIdx.x; e < C::kKeys * kDmax; e += kThreads) {
      const int r = e / kDmax, d = e % kDmax;
      if (d >= a.D) k_tile[r][d] = v_tile[r][d] = 0.0f;
    }
  }

  // This thread's slice: float4 t of the slice covers columns (t * kGroup + slot) * 4 .. + 3,
  // so a group's lanes read consecutive 16-byte words of a shared row (no bank conflicts).
  const float scale = 1.0f / sqrtf(float(a.D));
  float4 q[C::kVecs], o[C::kVecs];
  const float* qrow = a.q + (bh * a.S + (active ? i : 0)) * a.D;
#pragma unroll
  for (int t = 0; t < C::kVecs; ++t) {
    const int d = (t * kGroup + slot) * 4;
    float x[4];
#pragma unroll
    for (int c = 0; c < 4; ++c) x[c] = (active && d + c < a.D) ? qrow[d + c] * scale : 0.0f;
    q[t] = make_float4(x[0], x[1], x[2], x[3]);
    o[t] = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
  }
  float running_max = -INFINITY, running_sum = 0.0f;

  const float* kbase = a.k + a.kv_offset(bh);
  const float* vbase = a.v + a.kv_offset(bh);
  for (std::int64_t j0 = 0; j0 < block_keys; j0 += C::kKeys) {
    load_tile<kDmax, C::kKeys>(k_tile, kbase, j0, a.L, a.D, vec);
    load_tile<kDmax, C::kKeys>(v_tile, vbase, j0, a.L, a.D, vec);
    __syncthreads();
    const std::int64_t visible = active ? min64(C::kKeys, my_last_key + 1 - j0) : 0;
    for (int c0 = 0; c0 < visible; c0 += kChunk) {  // the chunk's first key is always visible
      float s[kChunk];
#pragma unroll
      for (int c = 0; c < kChunk; ++c) {
        float dot = 0.0f;
#pragma unroll
        for (int t = 0; t < C::kVecs; ++t) {
          const float4 kv =
              *reinterpret_cast<const float4*>(&k_tile[c0 + c][(t * kGroup + slot) * 4]);
          dot += q[t].x * kv.x + q[t].y * kv.y + q[t].z * kv.z + q[t].w * kv.w;
        }
        s[c] = dot;
      }
      float chunk_max = -INFINITY;
#pragma unroll
      for (int c = 0; c < kChunk; ++c) {
        s[c] = group_sum<kGroup>(s[c], group_mask);
        if (c0 + c >= visible) s[c] = -INFINITY;
        chunk_max = fmaxf(chunk_max, s[c]);
      }
      const float new_max = fmaxf(running_max, chunk_max);
      const float correction = expf(running_max - new_max);  // 0 on the first chunk
      running_sum *= correction;
#pragma unroll
      for (int t = 0; t < C::kVecs; ++t) {
        o[t].x *= correction;
        o[t].y *= correction;
        o[t].z *= correction;
        o[t].w *= correction;
      }
#pragma unroll
      for (int c = 0; c < kChunk; ++c) {
        const float p = expf(s[c] - new_max);  // exactly 0 for a masked key
        running_sum += p;
#pragma unroll
        for (int t = 0; t < C::kVecs; ++t) {
          const float4 vv =
              *reinterpret_cast<const float4*>(&v_tile[c0 + c][(t * kGroup + slot) * 4]);
          o[t].x += p * vv.x;
          o[t].y += p * vv.y;
          o[t].z += p * vv.z;
          o[t].w += p * vv.w;
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
  for (int t = 0; t < C::kVecs; ++t) {
    const int d = (t * kGroup + slot) * 4;
    const float x[4] = {o[t].x, o[t].y, o[t].z, o[t].w};
#pragma unroll
    for (int c = 0; c < 4; ++c) {
      if (d + c < a.D) orow[d + c] = x[c] * inv;
    }
  }
}

// Two query-tile sizes per head dimension: a 16-float slice per thread, or an 8-float one (twice
// the threads per query, half the queries per block) when the first would leave the GPU with
// fewer than two blocks per multiprocessor.
template <int kDmax>
void launch_flash(const AttentionArgs& a, cudaStream_t stream) {
  constexpr int kWide = kDmax / 16, kNarrow = kDmax / 8;
  const bool vec = a.D % 4 == 0 && aligned16(a.k) && aligned16(a.v);
  const std::int64_t BH = a.B * a.H;
  const std::int64_t wide_blocks = ceil_div(a.S, FlashConfig<kDmax, kWide>::kQueries) * BH;
  if (wide_blocks >= 2 * multiprocessor_count()) {
    launch(flash_attention_kernel<kDmax, kWide>,
           tiles_grid(ceil_div(a.S, FlashConfig<kDmax, kWide>::kQueries), BH, "attention"),
           kThreads, 0, stream, a, vec);
  } else {
    launch(flash_attention_kernel<kDmax, kNarrow>,
           tiles_grid(ceil_div(a.S, FlashConfig<kDmax, kNarrow>::kQueries), BH, "attention"),
           kThreads, 0, stream, a, vec);
  }
  AIGC_CUDA_CHECK_LAUNCH();
}

}  // namespace

bool flash_attention_supports(std::int64_t D) { return D >= 1 && D <= kFlashMaxHeadDim; }

std::int64_t flash_attention_workspace_floats(const AttentionArgs& a) {
  multiprocessor_count();  // asked now, so that nothing but launches happens while recording
  return a.S <= kDecodeMaxQueries ? plan_decode_split(a).workspace_floats : 0;
}

void launch_attention_flash(const AttentionArgs& a, float* workspace, cudaStream_t stream) {
  if (!flash_attention_supports(a.D)) {
    throw std::invalid_argument("flash attention: head dimension " + std::to_string(a.D) +
                                " outside 1.." + std::to_string(kFlashMaxHeadDim));
  }
  if (a.S <= kDecodeMaxQueries) return launch_attention_decode(a, workspace, stream);
  if (a.D <= 32) return launch_flash<32>(a, stream);
  if (a.D <= 64) return launch_flash<64>(a, stream);
  return launch_flash<128>(a, stream);
}

}  // namespace aigc::cuda
