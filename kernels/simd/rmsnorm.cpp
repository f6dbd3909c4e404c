// Highway compiles this file once per SIMD target (foreach_target re-includes it).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/simd/rmsnorm.cpp"
// clang-format off
#include <hwy/foreach_target.h>
#include <hwy/highway.h>
// clang-format on

#include <cmath>

#include "kernels/simd/backend.hpp"
#include "kernels/simd/rmsnorm.hpp"

HWY_BEFORE_NAMESPACE();
namespace aigc::simd {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;

// One pass for the sum of squares (the row stays in L1), one to write y.
void RmsnormRowsImpl(const RmsnormShape& s, const float* HWY_RESTRICT x,
                     const float* HWY_RESTRICT gamma, float* HWY_RESTRICT y, int64_t r0,
                     int64_t r1) {
  const DF d;
  const size_t L = hn::Lanes(d);
  const size_t C = static_cast<size_t>(s.dim);
  const size_t cv = C / L * L;
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * s.dim;
    float* yr = y + r * s.dim;
    VF vsq = hn::Zero(d);
    for (size_t c = 0; c < cv; c += L) {
      const VF v = hn::LoadU(d, xr + c);
      vsq = hn::MulAdd(v, v, vsq);
    }
    float sq = hn::GetLane(hn::SumOfLanes(d, vsq));
    for (size_t c = cv; c < C; ++c) sq += xr[c] * xr[c];
    const float rstd = 1.0f / std::sqrt(sq / static_cast<float>(C) + s.eps);

    const VF vrstd = hn::Set(d, rstd);
    for (size_t c = 0; c < cv; c += L) {
      hn::StoreU(hn::Mul(hn::Mul(hn::LoadU(d, xr + c), vrstd), hn::LoadU(d, gamma + c)), d, yr + c);
    }
    for (size_t c = cv; c < C; ++c) yr[c] = xr[c] * rstd * gamma[c];
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace aigc::simd
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace aigc::simd {

HWY_EXPORT(RmsnormRowsImpl);

void rmsnorm_rows(const RmsnormShape& shape, const float* x, const float* gamma, float* y,
                  std::int64_t r0, std::int64_t r1) {
  HWY_DYNAMIC_DISPATCH(RmsnormRowsImpl)(shape, x, gamma, y, r0, r1);
}

std::unique_ptr<RmsnormKernel> make_rmsnorm_kernel(const RmsnormShape& shape) {
  return kernel_from_function<RmsnormKernel>(
      shape, [](const RmsnormShape& s, const Buffer& x, const Buffer& gamma, Buffer& y) {
        rmsnorm_rows(s, x.as<const float>(), gamma.as<const float>(), y.as<float>(), 0, s.rows);
      });
}

AIGC_REGISTER_KERNEL(kernels(), RmsnormShape,
                     [](Backend&, const RmsnormShape& s) { return make_rmsnorm_kernel(s); });

}  // namespace aigc::simd
#endif  // HWY_ONCE
