#include "core/ops/layernorm.hpp"

namespace aigc {

void require_buffers(const LayernormShape& s, const Buffer& x, const Buffer& gamma,
                     const Buffer& beta, const Buffer& y) {
  require_floats(x, s.rows * s.dim, "layernorm input");
  require_floats(gamma, s.dim, "layernorm gamma");
  require_floats(beta, s.dim, "layernorm beta");
  require_floats(y, s.rows * s.dim, "layernorm output");
}

OpWork work_of(const LayernormShape& s) {
  const double n = double(s.rows) * s.dim;
  return {.flops = 7 * n, .bytes = 4 * (2 * n + 2.0 * s.dim)};
}

}  // namespace aigc
