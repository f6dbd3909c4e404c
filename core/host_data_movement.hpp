#pragma once
// The decoder's data movement in host memory (core/data_movement.hpp), shared by every CPU
// backend: memcpy-bound gathers and copies, and a branch-free argmax.
#include "core/data_movement.hpp"

namespace aigc {

class HostDataMovement final : public DataMovement {
 public:
  void upload_ids(Buffer& dst, std::size_t offset, std::span<const std::int32_t> src) override;
  void download_ids(const Buffer& src, std::size_t offset, std::span<std::int32_t> dst) override;
  void embed(const Buffer& ids, std::size_t first, std::int64_t count, std::int64_t pos0,
             std::int64_t dim, const Buffer& wte, const Buffer* wpe, Buffer& x, VocabRows rows = {},
             float scale = 1.0f) override;
  void argmax(const Buffer& logits, std::size_t first, std::int64_t n, Buffer& ids,
              std::size_t index) override;
  void split_heads(const HeadsShape& shape, std::int64_t pos0, const Buffer& qkv, Buffer& q,
                   Buffer& k_cache, Buffer& v_cache) override;
  void merge_heads(const HeadsShape& shape, const Buffer& o, Buffer& y) override;
  void copy(const Buffer& src, std::size_t src_offset, Buffer& dst, std::size_t dst_offset,
            std::size_t count) override;
  void copy_rows(const Buffer& src, Buffer& dst, const RowCopy& c) override;
};

}  // namespace aigc
