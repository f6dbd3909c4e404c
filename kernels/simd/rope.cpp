// RoPE from a table of cos/sin built with the kernel: the run is then four multiplies and two
// adds per pair over data read once, memory-bound, so plain loops (which the compiler
// vectorizes for the baseline target) are as fast as Highway's would be; the shuffles that
// separate even and odd lanes would cost more than they save at head_dim 64.
#include "kernels/simd/rope.hpp"
#include "kernels/simd/backend.hpp"

#include <cmath>

namespace aigc::simd {

std::vector<float> rope_table(const RopeShape& s) {
  const std::int64_t half = s.head_dim / 2;
  std::vector<float> table(static_cast<std::size_t>(s.tokens * half * 2));
  for (std::int64_t t = 0; t < s.tokens; ++t) {
    for (std::int64_t i = 0; i < half; ++i) {
      const double angle =
          double(s.pos0 + t) * std::pow(double(s.base), -2.0 * double(i) / double(s.head_dim));
      table[(t * half + i) * 2] = static_cast<float>(std::cos(angle));
      table[(t * half + i) * 2 + 1] = static_cast<float>(std::sin(angle));
    }
  }
  return table;
}

void rope_rows(const RopeShape& s, const float* table, float* x, std::int64_t t0, std::int64_t t1) {
  const std::int64_t half = s.head_dim / 2;
  for (std::int64_t t = t0; t < t1; ++t) {
    const float* cs = table + t * half * 2;
    for (std::int64_t h = 0; h < s.heads; ++h) {
      float* head = x + t * s.row_floats() + h * s.head_dim;
      for (std::int64_t i = 0; i < half; ++i) {
        const float c = cs[2 * i], sn = cs[2 * i + 1];
        const float x0 = head[2 * i], x1 = head[2 * i + 1];
        head[2 * i] = x0 * c - x1 * sn;
        head[2 * i + 1] = x0 * sn + x1 * c;
      }
    }
  }
}

std::unique_ptr<RopeKernel> make_rope_kernel(const RopeShape& shape) {
  return kernel_from_function<RopeKernel>(
      shape, [table = rope_table(shape)](const RopeShape& s, Buffer& x) {
        rope_rows(s, table.data(), x.as<float>(), 0, s.tokens);
      });
}

AIGC_REGISTER_KERNEL(kernels(), RopeShape,
                     [](Backend&, const RopeShape& s) { return make_rope_kernel(s); });

}  // namespace aigc::simd
