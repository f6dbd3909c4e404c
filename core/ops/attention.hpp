#pragma once
// The attention op: causal multi-head scaled-dot-product attention, fp32:
//   O[b,h,i,:] = softmax_j(Q[b,h,i,:] . K[b,h,j,:] / sqrt(D) + mask) . V[b,h,j,:]
// S queries stand at absolute positions L-S .. L-1 and see the keys at positions up to
// their own (with a window W, the last W of them). S == L is full causal attention (prefill); S ==
// 1 is one decode step against a KV cache of L entries. Layouts: Q, O [B,H,S,D]; K, V
// [B,Hkv,kv_capacity,D] (the first L rows of each head valid), so a decoder's preallocated cache is
// used in place. Grouped-query attention (Llama 2/3, SmolLM2): Hkv = kv_heads < H key/value heads,
// each shared by H / Hkv consecutive query heads (query head h reads KV head h / (H / Hkv)).
// K and V rows are stored in kv_format (core/kv_format.hpp: f32, f16 or q8_0), each row
// kv_row_bytes() bytes; Q and O are fp32.
#include <cstdint>

#include "core/kernels.hpp"
#include "core/kv_format.hpp"

namespace aigc {

struct AttentionShape {
  std::int64_t B = 1, H = 1, S = 1, L = 1, D = 1;
  std::int64_t kv_capacity = 0;  // 0: equal to L
  std::int64_t kv_heads = 0;     // 0: equal to H (multi-head attention); H must be a multiple
  // Sliding-window attention (Gemma's local layers, Mistral): the query at position p sees the
  // keys p - window + 1 .. p only. 0: every key up to its own.
  std::int64_t window = 0;
  WeightFormat kv_format = WeightFormat::f32;
  std::int64_t kv_row_bytes() const { return aigc::kv_row_bytes(kv_format, D); }
  std::int64_t capacity() const { return kv_capacity > 0 ? kv_capacity : L; }
  // The first key the query at position p sees.
  std::int64_t first_key(std::int64_t p) const {
    return window > 0 && p >= window ? p - window + 1 : 0;
  }
  std::int64_t kv_head_count() const { return kv_heads > 0 ? kv_heads : H; }
  // Query heads per KV head.
  std::int64_t group() const { return H / kv_head_count(); }
  // The KV head (flattened over the batch, b * Hkv + h / group) that query head bh = b * H + h
  // reads.
  std::int64_t kv_head_of(std::int64_t bh) const {
    return (bh / H) * kv_head_count() + (bh % H) / group();
  }
};

// O = attention(Q, K, V): run(q, k, v, o).
using AttentionKernel =
    OpKernel<AttentionShape, const Buffer&, const Buffer&, const Buffer&, Buffer&>;

void require_buffers(const AttentionShape& s, const Buffer& q, const Buffer& k, const Buffer& v,
                     const Buffer& o);
// H a multiple of the KV heads; a KV format with D a whole number of its blocks.
void require_valid_shape(const AttentionShape& s);
// 4D FLOPs per visible (query, key) pair; Q and O, and the L valid rows of K and V.
OpWork work_of(const AttentionShape& s);

}  // namespace aigc
