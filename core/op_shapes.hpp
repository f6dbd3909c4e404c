#pragma once
// The shapes of the ops every backend may offer, and the ops' names. A shape says what each
// buffer holds, so the kernel base classes (core/kernels.hpp) can check the buffers before
// any backend's arithmetic runs.
#include <cstdint>
#include <string>

#include "core/weight_format.hpp"

namespace aigc {

// The ops a backend may offer; BackendDescriptor::supports(op, dtype) answers for each.
// Data movement (embed, head split/merge, copy) is part of every backend's memory half.
enum class Op { matmul, attention, layernorm, rmsnorm, elementwise, rope };
const char* op_name(Op op);
inline constexpr Op kAllOps[] = {Op::matmul,  Op::attention,   Op::layernorm,
                                 Op::rmsnorm, Op::elementwise, Op::rope};

// C[M,N] = A[M,K] * B[K,N] (+ bias[N]), fp32, row-major, dense. With transpose_b, B is
// stored [N,K] (row n holds column n), as a tied output embedding is: logits = h . wte^T.
// b_format: how B's weights are stored (core/weight_format). A format other than f32 needs
// transpose_b (a block runs along a row of K weights, GGUF's layout), and a block format a K
// that is a whole number of blocks; A, C and the bias stay fp32, and the kernels compute on
// the stored weights directly (fp32 accumulation of the weights as dequantize() gives them).
struct MatmulShape {
  std::int64_t M = 0, N = 0, K = 0;
  bool bias = false;
  bool transpose_b = false;
  WeightFormat b_format = WeightFormat::f32;
  // Bytes of B as stored.
  std::int64_t b_bytes() const {
    return b_format == WeightFormat::f32 ? 4 * K * N : N * row_bytes(b_format, K);
  }
};

// Causal multi-head scaled-dot-product attention, fp32:
//   O[b,h,i,:] = softmax_j(Q[b,h,i,:] . K[b,h,j,:] / sqrt(D) + mask) . V[b,h,j,:]
// S queries stand at absolute positions L-S .. L-1 and see the keys at positions up to
// their own. S == L is full causal attention (prefill); S == 1 is one decode step against a
// KV cache of L entries. Layouts: Q, O [B,H,S,D]; K, V [B,Hkv,kv_capacity,D] (the first L rows
// of each head valid), so a decoder's preallocated cache is used in place.
// Grouped-query attention (Llama 2/3, SmolLM2): Hkv = kv_heads < H key/value heads, each shared
// by H / Hkv consecutive query heads (query head h reads KV head h / (H / Hkv)).
struct AttentionShape {
  std::int64_t B = 1, H = 1, S = 1, L = 1, D = 1;
  std::int64_t kv_capacity = 0;  // 0: equal to L
  std::int64_t kv_heads = 0;     // 0: equal to H (multi-head attention); H must be a multiple
  std::int64_t capacity() const { return kv_capacity > 0 ? kv_capacity : L; }
  std::int64_t kv_head_count() const { return kv_heads > 0 ? kv_heads : H; }
  // Query heads per KV head.
  std::int64_t group() const { return H / kv_head_count(); }
  // The KV head (flattened over the batch, b * Hkv + h / group) that query head bh = b * H + h
  // reads.
  std::int64_t kv_head_of(std::int64_t bh) const {
    return (bh / H) * kv_head_count() + (bh % H) / group();
  }
};

// Layer normalization over the last dimension of x [rows, dim], fp32:
//   y = (x - mean) / sqrt(var + eps) * gamma + beta   (var: the biased variance, as GPT-2).
struct LayernormShape {
  std::int64_t rows = 1, dim = 1;
  float eps = 1e-5f;
};

// RMS normalization over the last dimension of x [rows, dim], fp32 (Llama's norm: no mean,
// no shift):   y = x / sqrt(mean(x^2) + eps) * gamma
struct RmsnormShape {
  std::int64_t rows = 1, dim = 1;
  float eps = 1e-5f;
};

// Elementwise over n floats: `add` is y = a + b (the residual); `gelu_tanh` is y = GELU(a)
// in GPT-2's tanh form, 0.5 a (1 + tanh(sqrt(2/pi) (a + 0.044715 a^3))); `silu_mul` is
// SwiGLU's gate, y = silu(a) * b = a / (1 + exp(-a)) * b (a: the gate projection, b: the up).
enum class ElementwiseOp { add, gelu_tanh, silu_mul };
inline bool is_binary(ElementwiseOp op) { return op != ElementwiseOp::gelu_tanh; }
struct ElementwiseShape {
  ElementwiseOp op = ElementwiseOp::add;
  std::int64_t n = 1;
};

// Rotary position embedding (RoPE), in place on x [tokens, row_heads, head_dim]: in each of the
// first `heads` heads of token t's row, the pair (x[2i], x[2i+1]) turns by the angle
// (pos0 + t) * base^(-2i / head_dim), i < head_dim / 2. Adjacent pairs are GGUF's llama layout:
// llama.cpp's converter permutes the rows of Q's and K's projections so that its "normal" rope
// rotates adjacent pairs; Hugging Face's rotate_half pairs i with i + head_dim / 2 on the
// unpermuted weights, the same rotation. row_heads > heads leaves the rest of each row alone,
// so Q and K rotate inside a fused QKV projection's output and V does not.
struct RopeShape {
  std::int64_t tokens = 1, heads = 1, head_dim = 2;
  std::int64_t row_heads = 0;  // 0: equal to heads
  std::int64_t pos0 = 0;
  float base = 10000.0f;
  std::int64_t row_floats() const { return (row_heads > 0 ? row_heads : heads) * head_dim; }
};

// The decoder's head layouts: a QKV projection's output qkv [T, H + 2 Hkv, D] (Q [T, H, D],
// then K and V [T, Hkv, D] each), per-head queries and attention outputs [H, T, D], KV caches
// [Hkv, capacity, D]. Hkv = kv_heads (0: equal to heads) < heads is grouped-query attention.
struct HeadsShape {
  std::int64_t tokens = 1, heads = 1, head_dim = 1, capacity = 1;
  std::int64_t kv_heads = 0;
  std::int64_t kv_head_count() const { return kv_heads > 0 ? kv_heads : heads; }
  // Floats in one token's row of qkv.
  std::int64_t qkv_row() const { return (heads + 2 * kv_head_count()) * head_dim; }
};

// The token ids an embedding table holds: ids begin .. begin + (its rows) - 1 of a vocabulary of
// `vocab` ids (0: the table is the whole vocabulary). A tensor-parallel rank holds one share.
struct VocabRows {
  std::int64_t begin = 0, vocab = 0;
};

}  // namespace aigc
