#pragma once
// The buffer-size contract of the data movement (and the helpers each op's own checks in
// core/ops/ use), checked before anything is written. A buffer too small for its shape is a bug
// in the caller (the decoder, a workload), so these throw std::length_error naming the buffer
// rather than let a kernel write past it.
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/buffer.hpp"
#include "core/data_movement.hpp"
#include "core/heads.hpp"

namespace aigc {

void require_floats(const Buffer& b, std::int64_t floats, const char* what);

void require_upload_fits(const Buffer& dst, std::size_t bytes);
void require_download_fits(const Buffer& src, std::size_t bytes);
void require_valid_heads(const HeadsShape& s);
void require_ids(const Buffer& ids, std::size_t offset, std::size_t count, const char* what);
void require_embed_buffers(const Buffer& ids, std::size_t first, std::int64_t count,
                           std::int64_t pos0, std::int64_t dim, const Buffer& wte,
                           const Buffer* wpe, const Buffer& x, VocabRows rows = {});
void require_argmax_buffers(const Buffer& logits, std::size_t first, std::int64_t n,
                            const Buffer& ids, std::size_t index);
void require_split_heads_buffers(const HeadsShape& s, std::int64_t pos0, const Buffer& qkv,
                                 const Buffer& q, const Buffer& k_cache, const Buffer& v_cache);
void require_merge_heads_buffers(const HeadsShape& s, const Buffer& o, const Buffer& y);
void require_decode_batch_buffers(const HeadsShape& s, std::span<const std::int64_t> positions,
                                  const Buffer& qkv, std::span<Buffer* const> k_caches,
                                  std::span<Buffer* const> v_caches, const Buffer& y);
void require_copy_buffers(const Buffer& src, std::size_t src_offset, const Buffer& dst,
                          std::size_t dst_offset, std::size_t count);
// Strides at least the count (runs that do not overlap), every run inside its buffer.
void require_row_copy_buffers(const Buffer& src, const Buffer& dst, const RowCopy& c);

}  // namespace aigc
