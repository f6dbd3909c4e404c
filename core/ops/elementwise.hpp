#pragma once
// The elementwise op over n floats: `add` is y = a + b (the residual); `gelu_tanh` is
// y = GELU(a) in GPT-2's tanh form, 0.5 a (1 + tanh(sqrt(2/pi) (a + 0.044715 a^3))); `silu_mul`
// is SwiGLU's gate, y = silu(a) * b = a / (1 + exp(-a)) * b (a: the gate projection, b: the up);
// `gelu_tanh_mul` is GeGLU's (Gemma), y = GELU(a) * b.
#include <cstdint>

#include "core/kernels.hpp"

namespace aigc {

enum class ElementwiseOp { add, gelu_tanh, silu_mul, gelu_tanh_mul };
inline bool is_binary(ElementwiseOp op) { return op != ElementwiseOp::gelu_tanh; }
struct ElementwiseShape {
  ElementwiseOp op = ElementwiseOp::add;
  std::int64_t n = 1;
};

// run(a, b or null for a unary op, y); y may be the same buffer as a.
using ElementwiseKernel = OpKernel<ElementwiseShape, const Buffer&, const Buffer*, Buffer&>;

void require_buffers(const ElementwiseShape& s, const Buffer& a, const Buffer* b, const Buffer& y);
// add: 1 FLOP, 2 reads and a write; GELU: ~8 FLOPs with the tanh counted as one; silu_mul: 4
// with the exp counted as one, 2 reads and a write.
OpWork work_of(const ElementwiseShape& s);

}  // namespace aigc
