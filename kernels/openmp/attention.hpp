#pragma once
#include "core/backend.hpp"

namespace aigc::openmp {

// The fused simd attention, parallel over (batch, head, query block).
std::unique_ptr<AttentionKernel> make_attention_kernel(const AttentionShape& shape, int threads);

// Backend::attend_decode_batch: the batch's (sequence, KV head) tasks shared among the threads.
void decode_batch_attention(const HeadsShape& shape, std::span<const std::int64_t> positions,
                            const Buffer& qkv, std::span<Buffer* const> k_caches,
                            std::span<Buffer* const> v_caches, Buffer& y, int threads);

}  // namespace aigc::openmp
