#pragma once
// The shapes of the ops every backend may offer, and the ops' names. A shape says what each
// buffer holds, so the kernel base classes (core/kernels.hpp) can check the buffers before
// any backend's arithmetic runs.
#include <cstdint>
#include <string>

namespace aigc {

// The ops a backend may offer; BackendDescriptor::supports(op, dtype) answers for each.
// Data movement (embed, head split/merge, copy) is part of every backend's memory half.
enum class Op { matmul, attention, layernorm, rmsnorm, elementwise };
const char* op_name(Op op);
inline constexpr Op kAllOps[] = {Op::matmul, Op::attention, Op::layernorm, Op::rmsnorm,
                                 Op::elementwise};

// C[M,N] = A[M,K] * B[K,N] (+ bias[N]), fp32, row-major, dense. With transpose_b, B is
// stored [N,K] (row n holds column n), as a tied output embedding is: logits = h . wte^T.
struct MatmulShape {
  std::int64_t M = 0, N = 0, K = 0;
  bool bias = false;
  bool transpose_b = false;
};

// Causal multi-head scaled-dot-product attention, fp32:
//   O[b,h,i,:] = softmax_j(Q[b,h,i,:] . K[b,h,j,:] / sqrt(D) + mask) . V[b,h,j,:]
// S queries stand at absolute positions L-S .. L-1 and see the keys at positions up to
// their own. S == L is full causal attention (prefill); S == 1 is one decode step against a
// KV cache of L entries. Layouts: Q, O [B,H,S,D]; K, V [B,H,kv_capacity,D] (the first L rows
// of each head valid), so a decoder's preallocated cache is used in place.
struct AttentionShape {
  std::int64_t B = 1, H = 1, S = 1, L = 1, D = 1;
  std::int64_t kv_capacity = 0;  // 0: equal to L
  std::int64_t capacity() const { return kv_capacity > 0 ? kv_capacity : L; }
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
// in GPT-2's tanh form, 0.5 a (1 + tanh(sqrt(2/pi) (a + 0.044715 a^3))).
enum class ElementwiseOp { add, gelu_tanh };
struct ElementwiseShape {
  ElementwiseOp op = ElementwiseOp::add;
  std::int64_t n = 1;
};

// The decoder's head layouts: a QKV projection's output qkv [T, 3, H, D] (Q, K, V each
// [T, H, D]), per-head queries and attention outputs [H, T, D], KV caches [H, capacity, D].
struct HeadsShape {
  std::int64_t tokens = 1, heads = 1, head_dim = 1, capacity = 1;
};

}  // namespace aigc
