#include "core/ops/rmsnorm.hpp"

namespace aigc {

void require_buffers(const RmsnormShape& s, const Buffer& x, const Buffer& gamma, const Buffer& y) {
  require_floats(x, s.rows * s.dim, "rmsnorm input");
  require_floats(gamma, s.dim, "rmsnorm gamma");
  require_floats(y, s.rows * s.dim, "rmsnorm output");
}

OpWork work_of(const RmsnormShape& s) {
  const double n = double(s.rows) * s.dim;
  return {.flops = 4 * n, .bytes = 4 * (2 * n + double(s.dim))};
}

}  // namespace aigc
