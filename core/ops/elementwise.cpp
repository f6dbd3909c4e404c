#include "core/ops/elementwise.hpp"

#include <stdexcept>

namespace aigc {

void require_buffers(const ElementwiseShape& s, const Buffer& a, const Buffer* b, const Buffer& y) {
  require_floats(a, s.n, "elementwise input");
  require_floats(y, s.n, "elementwise output");
  const bool binary = is_binary(s.op);
  if (binary && b == nullptr)
    throw std::invalid_argument("elementwise: a binary op's second input is missing");
  if (!binary && b != nullptr)
    throw std::invalid_argument("elementwise: a unary op was given a second input");
  if (b != nullptr) require_floats(*b, s.n, "elementwise second input");
}

OpWork work_of(const ElementwiseShape& s) {
  const double n = double(s.n);
  switch (s.op) {
    case ElementwiseOp::add:
      return {.flops = n, .bytes = 12 * n};
    case ElementwiseOp::gelu_tanh:
      return {.flops = 8 * n, .bytes = 8 * n};
    case ElementwiseOp::gelu_tanh_mul:
      return {.flops = 9 * n, .bytes = 12 * n};
    case ElementwiseOp::silu_mul:
      break;
  }
  return {.flops = 4 * n, .bytes = 12 * n};
}

}  // namespace aigc
