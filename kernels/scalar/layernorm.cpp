#include "kernels/scalar/backend.hpp"

#include <cmath>

namespace aigc::scalar {
namespace {

// Two passes (mean, then the variance of x - mean): the textbook form, which does not
// lose the variance to cancellation when |mean| >> std as the one-pass E[x^2] - mean^2 can.
class ScalarLayernorm final : public LayernormKernel {
 public:
  explicit ScalarLayernorm(const LayernormShape& shape) : LayernormKernel(shape) {}
  void compute(const Buffer& x, const Buffer& gamma, const Buffer& beta, Buffer& y) override {
    const float* g = gamma.as<const float>();
    const float* b = beta.as<const float>();
    for (std::int64_t r = 0; r < shape().rows; ++r) {
      const float* xr = x.as<const float>() + r * shape().dim;
      float* yr = y.as<float>() + r * shape().dim;
      float sum = 0;
      for (std::int64_t c = 0; c < shape().dim; ++c) sum += xr[c];
      const float mean = sum / static_cast<float>(shape().dim);
      float sq = 0;
      for (std::int64_t c = 0; c < shape().dim; ++c) sq += (xr[c] - mean) * (xr[c] - mean);
      const float rstd = 1.0f / std::sqrt(sq / static_cast<float>(shape().dim) + shape().eps);
      for (std::int64_t c = 0; c < shape().dim; ++c) yr[c] = (xr[c] - mean) * rstd * g[c] + b[c];
    }
  }

 private:
};

}  // namespace

std::unique_ptr<LayernormKernel> make_layernorm_kernel(const LayernormShape& shape) {
  return std::make_unique<ScalarLayernorm>(shape);
}

AIGC_REGISTER_KERNEL(kernels(), LayernormShape,
                     [](Backend&, const LayernormShape& s) { return make_layernorm_kernel(s); });

}  // namespace aigc::scalar
