#include "core/host_data_movement.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/buffer_checks.hpp"

namespace aigc {

void HostDataMovement::upload_ids(Buffer& dst, std::size_t offset,
                                  std::span<const std::int32_t> src) {
  require_ids(dst, offset, src.size(), "upload_ids");
  if (src.empty()) return;  // an empty span's data() may be null: memcpy's is never allowed to
  std::memcpy(dst.as<std::int32_t>() + offset, src.data(), src.size_bytes());
}

void HostDataMovement::download_ids(const Buffer& src, std::size_t offset,
                                    std::span<std::int32_t> dst) {
  require_ids(src, offset, dst.size(), "download_ids");
  if (dst.empty()) return;
  std::memcpy(dst.data(), src.as<const std::int32_t>() + offset, dst.size_bytes());
}

void HostDataMovement::embed(const Buffer& ids, std::size_t first, std::int64_t count,
                             std::int64_t pos0, std::int64_t dim, const Buffer& wte,
                             const Buffer* wpe, Buffer& x, VocabRows rows, float scale) {
  require_embed_buffers(ids, first, count, pos0, dim, wte, wpe, x, rows);
  const std::int64_t table_rows = static_cast<std::int64_t>(wte.bytes() / sizeof(float)) / dim;
  const std::int64_t vocab = rows.vocab > 0 ? rows.vocab : table_rows;
  const std::int32_t* pid = ids.as<const std::int32_t>() + first;
  const float* pte = wte.as<const float>();
  const float* ppe = wpe != nullptr ? wpe->as<const float>() : nullptr;
  float* px = x.as<float>();
  for (std::int64_t t = 0; t < count; ++t) {
    const std::int64_t id = pid[t];
    float* out = px + t * dim;
    if (id < 0 || id >= vocab) {
      std::fill(out, out + dim, std::numeric_limits<float>::quiet_NaN());
      continue;
    }
    const std::int64_t row = id - rows.begin;
    if (row < 0 || row >= table_rows) {
      std::fill(out, out + dim, 0.0f);  // another rank's share of the vocabulary
    } else {
      for (std::int64_t c = 0; c < dim; ++c) out[c] = scale * pte[row * dim + c];
    }
    if (ppe == nullptr) continue;
    const float* p = ppe + (pos0 + t) * dim;
    for (std::int64_t c = 0; c < dim; ++c) out[c] += p[c];
  }
}

void HostDataMovement::argmax(const Buffer& logits, std::size_t first, std::int64_t n, Buffer& ids,
                              std::size_t index) {
  require_argmax_buffers(logits, first, n, ids, index);
  const float* l = logits.as<const float>() + first;
  // Lanes of running maxima (strict >: each keeps its first index) without branches, so the
  // compiler turns the loop into compares and blends: a batch takes B of these per step, and a
  // scalar loop over a 50k vocabulary was ~6% of a 16-sequence step, one thread working while
  // the others waited. |x| <= FLT_MAX fails for NaN and the infinities alike.
  constexpr std::int64_t kLanes = 16;
  float lane_max[kLanes];
  std::int32_t lane_at[kLanes];
  std::int32_t finite = 1;
  std::fill(lane_max, lane_max + kLanes, -std::numeric_limits<float>::max());
  std::fill(lane_at, lane_at + kLanes, 0);
  const std::int64_t whole = n / kLanes * kLanes;
  for (std::int64_t i = 0; i < whole; i += kLanes) {
    for (std::int64_t j = 0; j < kLanes; ++j) {
      const float x = l[i + j];
      const bool greater = x > lane_max[j];
      lane_max[j] = greater ? x : lane_max[j];
      lane_at[j] = greater ? static_cast<std::int32_t>(i + j) : lane_at[j];
      finite &= static_cast<std::int32_t>(std::fabs(x) <= std::numeric_limits<float>::max());
    }
  }
  std::int32_t best = static_cast<std::int32_t>(whole < n ? whole : 0);
  for (std::int64_t i = whole; i < n; ++i) {
    finite &= static_cast<std::int32_t>(std::fabs(l[i]) <= std::numeric_limits<float>::max());
    if (l[i] > l[best]) best = static_cast<std::int32_t>(i);
  }
  for (std::int64_t j = 0; j < kLanes && whole > 0; ++j) {
    if (lane_max[j] > l[best] || (lane_max[j] == l[best] && lane_at[j] < best)) best = lane_at[j];
  }
  ids.as<std::int32_t>()[index] = finite != 0 ? best : -1;
}

void HostDataMovement::split_heads(const HeadsShape& s, std::int64_t pos0, const Buffer& qkv,
                                   Buffer& q, Buffer& k_cache, Buffer& v_cache) {
  require_split_heads_buffers(s, pos0, qkv, q, k_cache, v_cache);
  const std::int64_t T = s.tokens, H = s.heads, D = s.head_dim, Hkv = s.kv_head_count();
  const float* src = qkv.as<const float>();
  float* pq = q.as<float>();
  auto* pk = k_cache.as<std::uint8_t>();
  auto* pv = v_cache.as<std::uint8_t>();
  const std::size_t row = static_cast<std::size_t>(D) * sizeof(float);
  const std::int64_t kv_row = s.kv_row_bytes();
  for (std::int64_t t = 0; t < T; ++t) {
    const float* r = src + t * s.qkv_row();
    for (std::int64_t h = 0; h < H; ++h) std::memcpy(pq + (h * T + t) * D, r + h * D, row);
    for (std::int64_t h = 0; h < Hkv; ++h) {
      const std::int64_t at = (h * s.capacity + pos0 + t) * kv_row;
      store_kv_row(s.kv_format, r + (H + h) * D, D, pk + at);
      store_kv_row(s.kv_format, r + (H + Hkv + h) * D, D, pv + at);
    }
  }
}

void HostDataMovement::merge_heads(const HeadsShape& s, const Buffer& o, Buffer& y) {
  require_merge_heads_buffers(s, o, y);
  const std::int64_t T = s.tokens, H = s.heads, D = s.head_dim;
  const float* src = o.as<const float>();
  float* dst = y.as<float>();
  for (std::int64_t h = 0; h < H; ++h) {
    for (std::int64_t t = 0; t < T; ++t) {
      std::memcpy(dst + (t * H + h) * D, src + (h * T + t) * D,
                  static_cast<std::size_t>(D) * sizeof(float));
    }
  }
}

void HostDataMovement::copy(const Buffer& src, std::size_t src_offset, Buffer& dst,
                            std::size_t dst_offset, std::size_t count) {
  require_copy_buffers(src, src_offset, dst, dst_offset, count);
  std::memcpy(dst.as<float>() + dst_offset, src.as<const float>() + src_offset,
              count * sizeof(float));
}

void HostDataMovement::copy_rows(const Buffer& src, Buffer& dst, const RowCopy& c) {
  require_row_copy_buffers(src, dst, c);
  const float* from = src.as<const float>() + c.src_offset;
  float* to = dst.as<float>() + c.dst_offset;
  for (std::size_t r = 0; r < c.rows; ++r) {
    std::memcpy(to + r * c.dst_stride, from + r * c.src_stride, c.count * sizeof(float));
  }
}

}  // namespace aigc
