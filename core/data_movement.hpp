#pragma once
// The decoder's data movement on a backend's memory: token ids in and out, the embedding
// gather, greedy argmax, the heads' split into the KV caches and their merge, plain copies.
// Memory-bound steps with no set-up worth preparing, so plain calls, written once per kind of
// memory (core/host_data_movement for every CPU backend, the CUDA backends' own) and handed out
// by Backend::moves(). Offsets and counts are in floats (ids: in int32s). Each returns when
// done, like a kernel (a GPU's is enqueued on its stream, in order), and checks its buffers.
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/buffer.hpp"
#include "core/heads.hpp"

namespace aigc {

// `rows` runs of `count` floats: run r from src[src_offset + r src_stride ..] to
// dst[dst_offset + r dst_stride ..] (a product of some columns into its columns of a wider one).
struct RowCopy {
  std::size_t rows = 0, count = 0;
  std::size_t src_offset = 0, src_stride = 0;
  std::size_t dst_offset = 0, dst_stride = 0;
};

class DataMovement {
 public:
  virtual ~DataMovement() = default;

  // Token ids live in the backend's memory, so that a greedy decode step (embedding, layers,
  // logits, argmax, and the next step's embedding of that argmax) never waits on the host: on a
  // GPU the whole step is one graph replay.
  virtual void upload_ids(Buffer& dst, std::size_t offset, std::span<const std::int32_t> src) = 0;
  virtual void download_ids(const Buffer& src, std::size_t offset, std::span<std::int32_t> dst) = 0;
  // x[t,:] = wte[ids[first + t],:] + wpe[pos0 + t,:] for t < count (no wpe: a model without
  // learned position embeddings, whose rope turns Q and K instead). An id outside 0 .. vocab - 1
  // (the -1 an argmax writes when it saw a non-finite logit) gives a row of NaN: the error
  // reaches the logits instead of a read out of bounds.
  // With `rows`, wte holds only the ids rows.begin .. rows.begin + (its rows) - 1 of a
  // vocabulary of rows.vocab (one rank's share of a tensor-parallel model): an id of the
  // vocabulary outside that share takes a row of zeros (the ranks' rows are summed after).
  // `scale` multiplies the token's row (Gemma's sqrt(width)).
  virtual void embed(const Buffer& ids, std::size_t first, std::int64_t count, std::int64_t pos0,
                     std::int64_t dim, const Buffer& wte, const Buffer* wpe, Buffer& x,
                     VocabRows rows = {}, float scale = 1.0f) = 0;
  // ids[index] = the index (from `first`) of the largest of logits[first .. first + n) (the
  // first on a tie), or -1 when any of them is NaN or infinite (greedy sampling; garbage is
  // never a token). `first` picks one row of a batch's logits, in place.
  virtual void argmax(const Buffer& logits, std::size_t first, std::int64_t n, Buffer& ids,
                      std::size_t index) = 0;
  virtual void split_heads(const HeadsShape& shape, std::int64_t pos0, const Buffer& qkv, Buffer& q,
                           Buffer& k_cache, Buffer& v_cache) = 0;
  // o [H, T, D] -> y [T, H * D].
  virtual void merge_heads(const HeadsShape& shape, const Buffer& o, Buffer& y) = 0;
  virtual void copy(const Buffer& src, std::size_t src_offset, Buffer& dst, std::size_t dst_offset,
                    std::size_t count) = 0;
  virtual void copy_rows(const Buffer& src, Buffer& dst, const RowCopy& c) = 0;
};

}  // namespace aigc
