#include "kernels/scalar/backend.hpp"

#include <cmath>

namespace aigc::scalar {

// The textbook form: the row's mean square in float, then x * rstd * gamma.
std::unique_ptr<RmsnormKernel> make_rmsnorm_kernel(const RmsnormShape& shape) {
  return kernel_from_function<RmsnormKernel>(
      shape, [](const RmsnormShape& s, const Buffer& x, const Buffer& gamma, Buffer& y) {
        const float* g = gamma.as<const float>();
        for (std::int64_t r = 0; r < s.rows; ++r) {
          const float* xr = x.as<const float>() + r * s.dim;
          float* yr = y.as<float>() + r * s.dim;
          float sq = 0;
          for (std::int64_t c = 0; c < s.dim; ++c) sq += xr[c] * xr[c];
          const float rstd = 1.0f / std::sqrt(sq / static_cast<float>(s.dim) + s.eps);
          for (std::int64_t c = 0; c < s.dim; ++c) yr[c] = xr[c] * rstd * g[c];
        }
      });
}

AIGC_REGISTER_KERNEL(kernels(), RmsnormShape,
                     [](Backend&, const RmsnormShape& s) { return make_rmsnorm_kernel(s); });

}  // namespace aigc::scalar
