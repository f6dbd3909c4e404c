#include "kernels/scalar/backend.hpp"

#include <cmath>

namespace aigc::scalar {

// Plain loops in float, the angle computed per pair as the definition reads.
std::unique_ptr<RopeKernel> make_rope_kernel(const RopeShape& shape) {
  return kernel_from_function<RopeKernel>(shape, [](const RopeShape& s, Buffer& xb) {
    float* x = xb.as<float>();
    const std::int64_t half = s.head_dim / 2;
    for (std::int64_t t = 0; t < s.tokens; ++t) {
      const float pos = static_cast<float>(s.pos0 + t);
      for (std::int64_t h = 0; h < s.heads; ++h) {
        float* head = x + t * s.row_floats() + h * s.head_dim;
        for (std::int64_t i = 0; i < half; ++i) {
          const float inv_freq =
              std::pow(s.base, -2.0f * static_cast<float>(i) / static_cast<float>(s.head_dim));
          const float angle = pos * inv_freq, c = std::cos(angle), sn = std::sin(angle);
          const float x0 = head[2 * i], x1 = head[2 * i + 1];
          head[2 * i] = x0 * c - x1 * sn;
          head[2 * i + 1] = x0 * sn + x1 * c;
        }
      }
    }
  });
}

AIGC_REGISTER_KERNEL(kernels(), RopeShape,
                     [](Backend&, const RopeShape& s) { return make_rope_kernel(s); });

}  // namespace aigc::scalar
