// The decoder's gathers and layout changes: embedding lookup, head split into the KV cache,
// head merge (one thread per element, consecutive threads on consecutive elements of the
// destination's rows), and the greedy argmax that feeds the next step's embedding on the
// device.
#include <math_constants.h>

#include "kernels/cuda/check.hpp"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/launch.hpp"

namespace aigc::cuda {
namespace {

constexpr int kThreads = 256;

unsigned blocks_for(std::int64_t n) { return grid_dim(ceil_div(n, kThreads), "elements", true); }

__global__ void embed_kernel(const std::int32_t* ids, std::int64_t tokens, std::int64_t pos0,
                             std::int64_t dim, EmbedTable table, const float* wte, const float* wpe,
                             float* x) {
  const std::int64_t e = std::int64_t{blockIdx.x} * blockDim.x + threadIdx.x;
  if (e >= tokens * dim) return;
  const std::int64_t t = e / dim, c = e % dim;
  const std::int64_t id = ids[t];
  if (id < 0 || id >= table.vocab) {
    x[e] = CUDART_NAN_F;
    return;
  }
  const std::int64_t row = id - table.begin;
  const float token = row >= 0 && row < table.rows ? table.scale * wte[row * dim + c] : 0.0f;
  x[e] = wpe != nullptr ? token + wpe[(pos0 + t) * dim + c] : token;
}

// One block: each thread scans a strided slice keeping its best (value, index) and whether it
// saw a non-finite value; then a shared-memory tree picks the block's best, the lower index on
// a tie (so the result is the first maximum, as on the host).
constexpr int kArgmaxThreads = 1024;

__global__ void __launch_bounds__(kArgmaxThreads)
    argmax_kernel(const float* x, std::int64_t n, std::int32_t* out) {
  __shared__ float best_value[kArgmaxThreads];
  __shared__ std::int32_t best_index[kArgmaxThreads];
  __shared__ int bad;
  if (threadIdx.x == 0) bad = 0;
  __syncthreads();
  float v = -INFINITY;
  std::int32_t at = -1;
  bool nonfinite = false;
  for (std::int64_t i = threadIdx.x; i < n; i += kArgmaxThreads) {
    const float xi = x[i];
    if (!isfinite(xi)) nonfinite = true;
    if (at < 0 || xi > v) {  // strictly greater: a thread's own slice is scanned in order
      v = xi;
      at = static_cast<std::int32_t>(i);
    }
  }
  if (nonfinite) atomicOr(&bad, 1);
  best_value[threadIdx.x] = v;
  best_index[threadIdx.x] = at;
  __syncthreads();
  for (int half = kArgmaxThreads / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) {
      const int o = threadIdx.x + half;
      const std::int32_t oi = best_index[o], mi = best_index[threadIdx.x];
      const bool take = oi >= 0 && (mi < 0 || best_value[o] > best_value[threadIdx.x] ||
                                    (best_value[o] == best_value[threadIdx.x] && oi < mi));
      if (take) {
        best_value[threadIdx.x] = best_value[o];
        best_index[threadIdx.x] = oi;
      }
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) *out = bad ? -1 : best_index[0];
}

__global__ void split_heads_kernel(const float* qkv, float* q, float* k_cache, float* v_cache,
                                   std::int64_t T, std::int64_t H, std::int64_t Hkv, std::int64_t D,
                                   std::int64_t capacity, std::int64_t pos0) {
  const std::int64_t row = (H + 2 * Hkv) * D;
  const std::int64_t e = std::int64_t{blockIdx.x} * blockDim.x + threadIdx.x;
  if (e >= T * row) return;
  const std::int64_t t = e / row, head = (e % row) / D, d = e % D;
  const float value = qkv[e];
  if (head < H) {
    q[(head * T + t) * D + d] = value;
  } else {
    const bool key = head < H + Hkv;
    const std::int64_t h = key ? head - H : head - H - Hkv;
    (key ? k_cache : v_cache)[(h * capacity + pos0 + t) * D + d] = value;
  }
}

__global__ void merge_heads_kernel(const float* o, float* y, std::int64_t T, std::int64_t H,
                                   std::int64_t D) {
  const std::int64_t C = H * D;
  const std::int64_t e = std::int64_t{blockIdx.x} * blockDim.x + threadIdx.x;
  if (e >= T * C) return;
  const std::int64_t t = e / C, h = (e % C) / D, d = e % D;
  y[e] = o[(h * T + t) * D + d];
}

}  // namespace

void launch_embed(const std::int32_t* ids, std::int64_t tokens, std::int64_t pos0, std::int64_t dim,
                  EmbedTable table, const float* wte, const float* wpe, float* x,
                  cudaStream_t stream) {
  if (tokens * dim <= 0) return;
  launch(embed_kernel, blocks_for(tokens * dim), kThreads, 0, stream, ids, tokens, pos0, dim, table,
         wte, wpe, x);
  AIGC_CUDA_CHECK_LAUNCH();
}

void launch_argmax(const float* x, std::int64_t n, std::int32_t* out, cudaStream_t stream) {
  launch(argmax_kernel, 1, kArgmaxThreads, 0, stream, x, n, out);
  AIGC_CUDA_CHECK_LAUNCH();
}

void launch_split_heads(const float* qkv, float* q, float* k_cache, float* v_cache,
                        std::int64_t tokens, std::int64_t heads, std::int64_t kv_heads,
                        std::int64_t head_dim, std::int64_t capacity, std::int64_t pos0,
                        cudaStream_t stream) {
  const std::int64_t n = tokens * (heads + 2 * kv_heads) * head_dim;
  if (n <= 0) return;
  launch(split_heads_kernel, blocks_for(n), kThreads, 0, stream, qkv, q, k_cache, v_cache, tokens,
         heads, kv_heads, head_dim, capacity, pos0);
  AIGC_CUDA_CHECK_LAUNCH();
}

void launch_merge_heads(const float* o, float* y, std::int64_t tokens, std::int64_t heads,
                        std::int64_t head_dim, cudaStream_t stream) {
  const std::int64_t n = tokens * heads * head_dim;
  if (n <= 0) return;
  launch(merge_heads_kernel, blocks_for(n), kThreads, 0, stream, o, y, tokens, heads, head_dim);
  AIGC_CUDA_CHECK_LAUNCH();
}

}  // namespace aigc::cuda
