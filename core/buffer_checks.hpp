#pragma once
// The buffer-size contract of each op, checked by a backend before it writes anything. A
// buffer too small for its shape is a bug in the caller (the decoder, a workload), so these
// throw std::length_error naming the buffer rather than let a kernel write past it. The
// kernel base classes (core/kernels.hpp) run them before every backend's arithmetic.
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/buffer.hpp"
#include "core/op_shapes.hpp"

namespace aigc {

void require_floats(const Buffer& b, std::int64_t floats, const char* what);

void require_upload_fits(const Buffer& dst, std::size_t bytes);
void require_download_fits(const Buffer& src, std::size_t bytes);
void require_matmul_buffers(const MatmulShape& s, const Buffer& a, const Buffer& b,
                            const Buffer* bias, const Buffer& c);
void require_attention_buffers(const AttentionShape& s, const Buffer& q, const Buffer& k,
                               const Buffer& v, const Buffer& o);
void require_layernorm_buffers(const LayernormShape& s, const Buffer& x, const Buffer& gamma,
                               const Buffer& beta, const Buffer& y);
void require_rmsnorm_buffers(const RmsnormShape& s, const Buffer& x, const Buffer& gamma,
                             const Buffer& y);
void require_elementwise_buffers(const ElementwiseShape& s, const Buffer& a, const Buffer* b,
                                 const Buffer& y);
void require_rope_buffers(const RopeShape& s, const Buffer& x);
// Shapes no kernel can take (std::invalid_argument); Backend::make_* asks before any backend.
template <typename Shape>
void require_valid_shape(const Shape&) {}
void require_valid_shape(const MatmulShape& s);
void require_valid_shape(const AttentionShape& s);
void require_valid_shape(const RopeShape& s);
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

}  // namespace aigc
