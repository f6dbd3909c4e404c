#pragma once
// The CUDA kernels' host-side entry points: plain pointers to device memory and a
// stream, so the kernels (.cu, compiled by nvcc) know nothing of the Backend classes
// (C++20) that call them. Every launcher enqueues on `stream` and returns at once; it
// checks the launch and throws CudaError on failure (check.hpp).
#include <cuda_runtime_api.h>

#include <cstdint>

#include "core/weight_format_layout.hpp"

namespace aigc::cuda {

// The matmul steps kept side by side, so the suite shows what each optimization buys.
enum class MatmulVariant {
  naive,             // one thread per output, operands straight from global memory
  tiled,             // 32x32 tiles staged in shared memory, one output per thread
  register_blocked,  // 128x128 block tiles, 8x8 outputs per thread, vectorized loads
  bf16_tensor_core,  // operands rounded to bf16 into shared memory, WMMA, fp32 accumulate
};

// C[M,N] = A[M,K] B[K,N] (+ bias[N]); with transpose_b, B is stored [N,K].
struct GemmArgs {
  const float* a = nullptr;
  const float* b = nullptr;
  const float* bias = nullptr;  // null: no bias
  float* c = nullptr;
  std::int64_t M = 0, N = 0, K = 0;
  bool transpose_b = false;
};
// The register-blocked variant takes a few rows (M <= kSmallM, a decode step) through
// matrix-vector kernels instead, which need matmul_workspace_floats() floats of device memory
// (split-K partial sums; 0 for the other variants and shapes). Allocate it ahead, so that
// nothing but launches happens while a CUDA graph records.
inline constexpr std::int64_t kSmallM = 4;
std::int64_t matmul_workspace_floats(MatmulVariant variant, const GemmArgs& args);
void launch_matmul(MatmulVariant variant, const GemmArgs& args, float* workspace,
                   cudaStream_t stream);
// B kept in a reduced or compressed format (f16, bf16, q8_0, q4_0, q4_1; not f32), stored
// [N, K] as the file holds it, row n at n * row_bytes (kernels/cuda/matmul_stored.cu). args.b
// and args.transpose_b are ignored. M <= kSmallM: a dequantizing matrix-vector kernel; more
// rows: B widened into `workspace` (stored_matmul_workspace_floats(args) floats), then the
// variant's GEMM.
struct StoredB {
  WeightFormat format = WeightFormat::f32;
  const std::uint8_t* bytes = nullptr;
  std::int64_t row_bytes = 0;
};
std::int64_t stored_matmul_workspace_floats(const GemmArgs& args);
void launch_matmul_stored(MatmulVariant variant, const GemmArgs& args, const StoredB& b,
                          float* workspace, cudaStream_t stream);

// Causal attention, layouts as AttentionShape (core/ops/attention.hpp): Q, O [B,H,S,D],
// K, V [B,Hkv,capacity,D]; query i stands at position L - S + i; query head h reads KV head
// h / (H / Hkv).
struct AttentionArgs {
  const float* q = nullptr;
  const float* k = nullptr;
  const float* v = nullptr;
  float* o = nullptr;
  std::int64_t B = 1, H = 1, S = 1, L = 1, D = 1, capacity = 1, kv_heads = 1;
  // The offset in floats of the K/V head that query head bh = b * H + h reads.
  __host__ __device__ std::int64_t kv_offset(std::int64_t bh) const {
    return ((bh / H) * kv_heads + (bh % H) / (H / kv_heads)) * capacity * D;
  }
};
// Scores in global memory: scores [B*H, S, L] floats, written then read back.
void launch_attention_naive(const AttentionArgs& args, float* scores, cudaStream_t stream);
// Fused: online softmax over key tiles in shared memory, nothing but O written. Takes
// D <= kFlashMaxHeadDim; S <= kDecodeMaxQueries uses the decode form (the cache split across
// blocks, flash-decoding), whose partial results need `workspace`:
// flash_attention_workspace_floats(args) floats of device memory (0 for the other form), for
// the same B, H, S, L and D. Allocate it ahead, so that nothing but launches happens while a
// CUDA graph records.
inline constexpr std::int64_t kFlashMaxHeadDim = 128;
inline constexpr std::int64_t kDecodeMaxQueries = 4;
bool flash_attention_supports(std::int64_t D);
std::int64_t flash_attention_workspace_floats(const AttentionArgs& args);
void launch_attention_flash(const AttentionArgs& args, float* workspace, cudaStream_t stream);
// In place over scores [B*H, S, L]: x * scale, causal mask, softmax along L (rows of
// masked-out keys become exact zeros). Shared by the naive kernel and the cuBLAS composition.
void launch_causal_softmax(float* scores, std::int64_t batches, std::int64_t S, std::int64_t L,
                           float scale, cudaStream_t stream);

// Decoder ops.
void launch_layernorm(const float* x, const float* gamma, const float* beta, float* y,
                      std::int64_t rows, std::int64_t dim, float eps, cudaStream_t stream);
void launch_rmsnorm(const float* x, const float* gamma, float* y, std::int64_t rows,
                    std::int64_t dim, float eps, cudaStream_t stream);
void launch_add(const float* a, const float* b, float* y, std::int64_t n, cudaStream_t stream);
void launch_gelu_tanh(const float* a, float* y, std::int64_t n, cudaStream_t stream);
void launch_silu_mul(const float* a, const float* b, float* y, std::int64_t n, cudaStream_t stream);
// GeGLU's gate: gelu_tanh(a) * b.
void launch_gelu_tanh_mul(const float* a, const float* b, float* y, std::int64_t n,
                          cudaStream_t stream);
// RoPE in place, as RopeShape (core/ops/rope.hpp) says.
void launch_rope(float* x, std::int64_t tokens, std::int64_t heads, std::int64_t head_dim,
                 std::int64_t row_floats, std::int64_t pos0, float base, cudaStream_t stream);
// The ids wte's rows hold: begin .. begin + rows - 1 of a vocabulary of `vocab`; the factor
// a row is scaled by.
struct EmbedTable {
  std::int64_t begin = 0, rows = 0, vocab = 0;
  float scale = 1.0f;
};
// x[t,:] = wte[ids[t] - begin,:] + wpe[pos0 + t,:] (wpe null: wte's row alone); ids in device
// memory; an id outside 0..vocab-1 gives a row of NaN, one of the vocabulary outside the table's
// rows a row of zeros (plus wpe's).
void launch_embed(const std::int32_t* ids, std::int64_t tokens, std::int64_t pos0, std::int64_t dim,
                  EmbedTable table, const float* wte, const float* wpe, float* x,
                  cudaStream_t stream);
// *out = index of the largest of x[0..n) (the first on a tie), -1 if any is not finite.
void launch_argmax(const float* x, std::int64_t n, std::int32_t* out, cudaStream_t stream);
// qkv [T,H+2Hkv,D] -> q [H,T,D], rows pos0.. of k_cache, v_cache [Hkv,capacity,D].
void launch_split_heads(const float* qkv, float* q, float* k_cache, float* v_cache,
                        std::int64_t tokens, std::int64_t heads, std::int64_t kv_heads,
                        std::int64_t head_dim, std::int64_t capacity, std::int64_t pos0,
                        cudaStream_t stream);
// o [H,T,D] -> y [T,H*D].
void launch_merge_heads(const float* o, float* y, std::int64_t tokens, std::int64_t heads,
                        std::int64_t head_dim, cudaStream_t stream);
// y[e] = x[e] rounded to bfloat16 (nearest even; NaN stays NaN), as 16-bit words: the cuBLAS
// bf16 matmul's A.
void launch_round_to_bf16(const float* x, std::int64_t n, std::uint16_t* y, cudaStream_t stream);
// Fills n floats with value (NaN poisoning of device buffers without a host round trip).
void launch_fill(float* y, std::int64_t n, float value, cudaStream_t stream);

}  // namespace aigc::cuda
