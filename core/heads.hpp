#pragma once
// The decoder's head layouts and embedding rows: the shapes of its data movement
// (core/data_movement.hpp) and of a batch's decode attention (Backend::attend_decode_batch).
#include <cstdint>

#include "core/kv_format.hpp"

namespace aigc {

// A QKV projection's output qkv [T, H + 2 Hkv, D] (Q [T, H, D], then K and V [T, Hkv, D]
// each), per-head queries and attention outputs [H, T, D], KV caches [Hkv, capacity, D].
// Hkv = kv_heads (0: equal to heads) < heads is grouped-query attention.
struct HeadsShape {
  std::int64_t tokens = 1, heads = 1, head_dim = 1, capacity = 1;
  std::int64_t kv_heads = 0;
  std::int64_t window = 0;  // a batch's decode attention: the keys a query sees (0: all)
  // How the caches store each row of D (core/kv_format.hpp); Q, qkv and outputs are fp32.
  WeightFormat kv_format = WeightFormat::f32;
  std::int64_t kv_head_count() const { return kv_heads > 0 ? kv_heads : heads; }
  std::int64_t kv_row_bytes() const { return aigc::kv_row_bytes(kv_format, head_dim); }
  // Floats in one token's row of qkv.
  std::int64_t qkv_row() const { return (heads + 2 * kv_head_count()) * head_dim; }
};

// The token ids an embedding table holds: ids begin .. begin + (its rows) - 1 of a vocabulary of
// `vocab` ids (0: the table is the whole vocabulary). A tensor-parallel rank holds one share.
struct VocabRows {
  std::int64_t begin = 0, vocab = 0;
};

}  // namespace aigc
