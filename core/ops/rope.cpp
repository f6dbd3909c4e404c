#include "core/ops/rope.hpp"

#include <stdexcept>

#include <fmt/format.h>

namespace aigc {

void require_buffers(const RopeShape& s, Buffer& x) {
  require_floats(x, s.tokens * s.row_floats(), "rope input");
}

void require_valid_shape(const RopeShape& s) {
  if (s.head_dim < 2 || s.head_dim % 2 != 0 || s.pos0 < 0 || s.heads < 1 ||
      s.row_floats() < s.heads * s.head_dim || !(s.base > 1.0f)) {
    throw std::invalid_argument(fmt::format(
        "rope: head_dim {} must be even and >= 2, pos0 {} >= 0, heads {} >= 1 and no more than "
        "row_heads {}, base {} > 1",
        s.head_dim, s.pos0, s.heads, s.row_heads, s.base));
  }
}

OpWork work_of(const RopeShape& s) {
  const double pairs = double(s.tokens) * s.heads * s.head_dim / 2;
  return {.flops = 6 * pairs, .bytes = 16 * pairs};
}

}  // namespace aigc
