#include "core/buffer_checks.hpp"

#include <stdexcept>

#include <fmt/format.h>

namespace aigc {

void require_floats(const Buffer& b, std::int64_t floats, const char* what) {
  if (floats < 0 || static_cast<std::size_t>(floats) * sizeof(float) > b.bytes()) {
    throw std::length_error(
        fmt::format("{}: {} floats do not fit a buffer of {} bytes", what, floats, b.bytes()));
  }
}

void require_upload_fits(const Buffer& dst, std::size_t bytes) {
  if (bytes > dst.bytes()) {
    throw std::length_error(
        fmt::format("upload of {} bytes into a buffer of {} bytes", bytes, dst.bytes()));
  }
}

void require_download_fits(const Buffer& src, std::size_t bytes) {
  if (bytes > src.bytes()) {
    throw std::length_error(
        fmt::format("download of {} bytes from a buffer of {} bytes", bytes, src.bytes()));
  }
}

void require_valid_heads(const HeadsShape& s) {
  if (s.heads < 1 || s.kv_heads < 0 || s.kv_head_count() > s.heads ||
      s.heads % s.kv_head_count() != 0) {
    throw std::invalid_argument(fmt::format(
        "heads: {} query heads are not a multiple of {} KV heads", s.heads, s.kv_head_count()));
  }
}

void require_ids(const Buffer& ids, std::size_t offset, std::size_t count, const char* what) {
  if (offset + count < offset || (offset + count) * sizeof(std::int32_t) > ids.bytes()) {
    throw std::length_error(fmt::format("{}: ids {}..{} do not fit a buffer of {} ids", what,
                                        offset, offset + count,
                                        ids.bytes() / sizeof(std::int32_t)));
  }
}

void require_embed_buffers(const Buffer& ids, std::size_t first, std::int64_t count,
                           std::int64_t pos0, std::int64_t dim, const Buffer& wte,
                           const Buffer* wpe, const Buffer& x, VocabRows rows) {
  if (count < 0 || pos0 < 0 || dim < 1) {
    throw std::invalid_argument(fmt::format(
        "embed: count {}, pos0 {} and dim {} must be >= 0, >= 0, >= 1", count, pos0, dim));
  }
  const auto table_rows = static_cast<std::int64_t>(wte.bytes() / sizeof(float)) / dim;
  if (rows.begin < 0 || (rows.vocab > 0 && rows.begin + table_rows > rows.vocab)) {
    throw std::invalid_argument(
        fmt::format("embed: a table of {} rows from id {} does not fit a vocabulary of {}",
                    table_rows, rows.begin, rows.vocab));
  }
  require_ids(ids, first, static_cast<std::size_t>(count), "embed ids");
  require_floats(x, count * dim, "embed output");
  if (wpe != nullptr) require_floats(*wpe, (pos0 + count) * dim, "embed positions");
  require_floats(wte, dim, "embed token table");
}

void require_argmax_buffers(const Buffer& logits, std::size_t first, std::int64_t n,
                            const Buffer& ids, std::size_t index) {
  if (n < 1) throw std::invalid_argument(fmt::format("argmax: {} logits (at least 1)", n));
  require_floats(logits, static_cast<std::int64_t>(first) + n, "argmax logits");
  require_ids(ids, index, 1, "argmax output");
}

void require_split_heads_buffers(const HeadsShape& s, std::int64_t pos0, const Buffer& qkv,
                                 const Buffer& q, const Buffer& k_cache, const Buffer& v_cache) {
  require_valid_heads(s);
  const std::int64_t T = s.tokens, H = s.heads, D = s.head_dim, Hkv = s.kv_head_count();
  require_floats(qkv, T * s.qkv_row(), "split_heads input");
  require_floats(q, H * T * D, "split_heads queries");
  const std::int64_t cache = kv_cache_bytes(s.kv_format, (Hkv - 1) * s.capacity + pos0 + T, D);
  require_floats(k_cache, cache / 4, "split_heads key cache");
  require_floats(v_cache, cache / 4, "split_heads value cache");
}

void require_merge_heads_buffers(const HeadsShape& s, const Buffer& o, const Buffer& y) {
  const std::int64_t n = s.tokens * s.heads * s.head_dim;
  require_floats(o, n, "merge_heads input");
  require_floats(y, n, "merge_heads output");
}

void require_decode_batch_buffers(const HeadsShape& s, std::span<const std::int64_t> positions,
                                  const Buffer& qkv, std::span<Buffer* const> k_caches,
                                  std::span<Buffer* const> v_caches, const Buffer& y) {
  require_valid_heads(s);
  const auto B = static_cast<std::int64_t>(positions.size());
  if (s.tokens != 1 || B < 1 || k_caches.size() != positions.size() ||
      v_caches.size() != positions.size()) {
    throw std::invalid_argument(fmt::format(
        "attend_decode_batch: one token per sequence (tokens {}), at least one sequence ({}), "
        "and a key and a value cache for each ({}, {})",
        s.tokens, B, k_caches.size(), v_caches.size()));
  }
  require_floats(qkv, B * s.qkv_row(), "attend_decode_batch input");
  require_floats(y, B * s.heads * s.head_dim, "attend_decode_batch output");
  for (std::size_t r = 0; r < positions.size(); ++r) {
    if (positions[r] < 0 || positions[r] >= s.capacity || k_caches[r] == nullptr ||
        v_caches[r] == nullptr) {
      throw std::invalid_argument(fmt::format(
          "attend_decode_batch: sequence {}'s position {} is outside its cache (valid: 0..{})", r,
          positions[r], s.capacity - 1));
    }
    const std::int64_t cache =
        kv_cache_bytes(s.kv_format, s.kv_head_count() * s.capacity, s.head_dim);
    require_floats(*k_caches[r], cache / 4, "attend_decode_batch key cache");
    require_floats(*v_caches[r], cache / 4, "attend_decode_batch value cache");
  }
}

void require_copy_buffers(const Buffer& src, std::size_t src_offset, const Buffer& dst,
                          std::size_t dst_offset, std::size_t count) {
  require_floats(src, static_cast<std::int64_t>(src_offset + count), "copy source");
  require_floats(dst, static_cast<std::int64_t>(dst_offset + count), "copy destination");
}

void require_row_copy_buffers(const Buffer& src, const Buffer& dst, const RowCopy& c) {
  if (c.rows > 0 && (c.src_stride < c.count || c.dst_stride < c.count)) {
    throw std::invalid_argument(fmt::format("copy_rows: strides {} and {} shorter than a run of {}",
                                            c.src_stride, c.dst_stride, c.count));
  }
  if (c.rows == 0) return;
  const std::size_t last = c.rows - 1;
  require_floats(src, static_cast<std::int64_t>(c.src_offset + last * c.src_stride + c.count),
                 "copy_rows source");
  require_floats(dst, static_cast<std::int64_t>(c.dst_offset + last * c.dst_stride + c.count),
                 "copy_rows destination");
}

}  // namespace aigc
