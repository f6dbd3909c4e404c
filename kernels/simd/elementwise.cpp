// Highway compiles this file once per SIMD target (foreach_target re-includes it).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/simd/elementwise.cpp"
// foreach_target must come first, then highway.h, then the contrib headers.
// clang-format off
#include <hwy/foreach_target.h>
#include <hwy/highway.h>
#include <hwy/contrib/math/math-inl.h>
// clang-format on

#include <cmath>

#include "kernels/simd/backend.hpp"
#include "kernels/simd/elementwise.hpp"

HWY_BEFORE_NAMESPACE();
namespace aigc::simd {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;

constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kGeluCubic = 0.044715f;

// Highway's Tanh (a few ulp) on whole vectors; the tail uses std::tanh. No restrict:
// y may be a (the residual adds in place).
void ElementwiseRangeImpl(ElementwiseOp op, const float* a, const float* b, float* y, int64_t i0,
                          int64_t i1) {
  const DF d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  int64_t i = i0;
  if (op == ElementwiseOp::add) {
    for (; i + L <= i1; i += L)
      hn::StoreU(hn::Add(hn::LoadU(d, a + i), hn::LoadU(d, b + i)), d, y + i);
    for (; i < i1; ++i) y[i] = a[i] + b[i];
    return;
  }
  if (op == ElementwiseOp::silu_mul) {
    // silu(a) b = a b / (1 + exp(-a)); Highway's Exp (a few ulp) underflows to 0 and
    // overflows to inf as std::exp does, so both tails reach their limits.
    const VF one = hn::Set(d, 1.0f);
    for (; i + L <= i1; i += L) {
      const VF x = hn::LoadU(d, a + i);
      const VF denom = hn::Add(one, hn::Exp(d, hn::Neg(x)));
      hn::StoreU(hn::Div(hn::Mul(x, hn::LoadU(d, b + i)), denom), d, y + i);
    }
    for (; i < i1; ++i) y[i] = a[i] / (1.0f + std::exp(-a[i])) * b[i];
    return;
  }
  // GELU(a), times b for GeGLU.
  const bool times_b = op == ElementwiseOp::gelu_tanh_mul;
  const VF half = hn::Set(d, 0.5f), one = hn::Set(d, 1.0f), k0 = hn::Set(d, kSqrt2OverPi),
           k1 = hn::Set(d, kGeluCubic);
  for (; i + L <= i1; i += L) {
    const VF x = hn::LoadU(d, a + i);
    const VF inner = hn::Mul(k0, hn::MulAdd(hn::Mul(k1, x), hn::Mul(x, x), x));
    const VF g = hn::Mul(hn::Mul(half, x), hn::Add(one, hn::Tanh(d, inner)));
    hn::StoreU(times_b ? hn::Mul(g, hn::LoadU(d, b + i)) : g, d, y + i);
  }
  for (; i < i1; ++i) {
    const float x = a[i];
    const float g = 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * (x + kGeluCubic * x * x * x)));
    y[i] = times_b ? g * b[i] : g;
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace aigc::simd
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace aigc::simd {

HWY_EXPORT(ElementwiseRangeImpl);

void elementwise_range(ElementwiseOp op, const float* a, const float* b, float* y, std::int64_t i0,
                       std::int64_t i1) {
  HWY_DYNAMIC_DISPATCH(ElementwiseRangeImpl)(op, a, b, y, i0, i1);
}

namespace {

class SimdElementwise final : public ElementwiseKernel {
 public:
  explicit SimdElementwise(const ElementwiseShape& shape) : ElementwiseKernel(shape) {}
  void compute(const Buffer& a, const Buffer* b, Buffer& y) override {
    elementwise_range(shape().op, a.as<const float>(),
                      b != nullptr ? b->as<const float>() : nullptr, y.as<float>(), 0, shape().n);
  }

 private:
};

}  // namespace

std::unique_ptr<ElementwiseKernel> make_elementwise_kernel(const ElementwiseShape& shape) {
  return std::make_unique<SimdElementwise>(shape);
}

AIGC_REGISTER_KERNEL(kernels(), ElementwiseShape, [](Backend&, const ElementwiseShape& s) {
  return make_elementwise_kernel(s);
});

}  // namespace aigc::simd
#endif  // HWY_ONCE
