#include "core/ops/attention.hpp"

#include <stdexcept>

#include <fmt/format.h>

namespace aigc {

void require_buffers(const AttentionShape& s, const Buffer& q, const Buffer& k, const Buffer& v,
                     const Buffer& o) {
  require_floats(q, s.B * s.H * s.S * s.D, "attention Q");
  const std::int64_t cache =
      kv_cache_bytes(s.kv_format, s.B * s.kv_head_count() * s.capacity(), s.D);
  require_floats(k, cache / 4, "attention K");
  require_floats(v, cache / 4, "attention V");
  require_floats(o, s.B * s.H * s.S * s.D, "attention O");
}

void require_valid_shape(const AttentionShape& s) {
  if (s.kv_heads < 0 || s.H < 1 || s.kv_head_count() > s.H || s.H % s.kv_head_count() != 0) {
    throw std::invalid_argument(fmt::format(
        "attention: {} query heads are not a multiple of {} KV heads", s.H, s.kv_head_count()));
  }
  s.kv_row_bytes();  // a KV format, and D a whole number of its blocks
}

OpWork work_of(const AttentionShape& s) {
  // Query i (at position p = L-S+i) sees p+1 keys, or min(p+1, window).
  double pairs = double(s.S) * (s.L - s.S) + double(s.S) * (s.S + 1) / 2;
  if (s.window > 0) {
    pairs = 0;
    for (std::int64_t p = s.L - s.S; p < s.L; ++p) pairs += double(p - s.first_key(p) + 1);
  }
  const double bh = double(s.B) * s.H, bkv = double(s.B) * s.kv_head_count();
  return {.flops = 4.0 * s.D * pairs * bh,
          .bytes = 4.0 * s.D * 2.0 * s.S * bh + 2.0 * double(s.kv_row_bytes()) * s.L * bkv};
}

}  // namespace aigc
