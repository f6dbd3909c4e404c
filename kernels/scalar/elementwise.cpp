#include "kernels/scalar/backend.hpp"

#include <cmath>

namespace aigc::scalar {

float gelu_tanh(float a) {
  constexpr float kSqrt2OverPi = 0.7978845608028654f;
  return 0.5f * a * (1.0f + std::tanh(kSqrt2OverPi * (a + 0.044715f * a * a * a)));
}

namespace {

class ScalarElementwise final : public ElementwiseKernel {
 public:
  explicit ScalarElementwise(const ElementwiseShape& shape) : ElementwiseKernel(shape) {}
  void compute(const Buffer& a, const Buffer* b, Buffer& y) override {
    const float* pa = a.as<const float>();
    float* py = y.as<float>();
    switch (shape().op) {
      case ElementwiseOp::add: {
        const float* pb = b->as<const float>();
        for (std::int64_t i = 0; i < shape().n; ++i) py[i] = pa[i] + pb[i];
        break;
      }
      case ElementwiseOp::gelu_tanh:
        for (std::int64_t i = 0; i < shape().n; ++i) py[i] = gelu_tanh(pa[i]);
        break;
      case ElementwiseOp::silu_mul: {
        const float* pb = b->as<const float>();
        for (std::int64_t i = 0; i < shape().n; ++i)
          py[i] = pa[i] / (1.0f + std::exp(-pa[i])) * pb[i];
        break;
      }
      case ElementwiseOp::gelu_tanh_mul: {
        const float* pb = b->as<const float>();
        for (std::int64_t i = 0; i < shape().n; ++i) py[i] = gelu_tanh(pa[i]) * pb[i];
        break;
      }
    }
  }

 private:
};

}  // namespace

std::unique_ptr<ElementwiseKernel> make_elementwise_kernel(const ElementwiseShape& shape) {
  return std::make_unique<ScalarElementwise>(shape);
}

AIGC_REGISTER_KERNEL(kernels(), ElementwiseShape, [](Backend&, const ElementwiseShape& s) {
  return make_elementwise_kernel(s);
});

}  // namespace aigc::scalar
