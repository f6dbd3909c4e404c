#pragma once
// Fused causal attention with online softmax (FlashAttention's algorithm on the CPU):
// no S x L score matrix; per call the scratch is a few tiles of (query block x D) and
// (key tile x D), kept per thread. Highway, dispatched at run time like the GEMM.
#include <cstdint>

#include "core/backend.hpp"

namespace aigc::simd {

// Query rows per block: the unit the openmp backend hands to a thread.
inline constexpr std::int64_t kAttentionQueryBlock = 64;

// Computes O for query rows [i0, i1) of head `bh` (= b * H + h); k and v hold rows in the
// shape's kv_format, read into floats a tile of keys at a time.
void attention_fused_block(const AttentionShape& shape, const float* q, const std::uint8_t* k,
                           const std::uint8_t* v, float* o, std::int64_t bh, std::int64_t i0,
                           std::int64_t i1);

// A decode step (S = 1) of the query heads of batch b that share KV head kv_head (one head
// without grouped-query attention), those of index first .. last - 1 in the group (last < 0:
// to its end): the cache is read once for all of them.
void attention_decode_group(const AttentionShape& shape, const float* q, const std::uint8_t* k,
                            const std::uint8_t* v, float* o, std::int64_t b, std::int64_t kv_head,
                            std::int64_t first = 0, std::int64_t last = -1);

// One task of Backend::attend_decode_batch, for sequence r and KV head g: writes the token's K
// and V head g (from its qkv row) into the caches at `position`, in the shape's kv_format,
// then attends g's query heads
// to positions 0 .. position, each head's output into its place in y's row. Tasks of different
// (r, g) touch disjoint memory, so any thread may run any of them.
void decode_batch_attention_task(const HeadsShape& shape, std::int64_t position,
                                 const float* qkv_row, std::uint8_t* k_cache, std::uint8_t* v_cache,
                                 float* y_row, std::int64_t g);

std::unique_ptr<AttentionKernel> make_attention_kernel(const AttentionShape& shape);

}  // namespace aigc::simd
