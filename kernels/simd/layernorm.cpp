// Highway compiles this file once per SIMD target (foreach_target re-includes it).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/simd/layernorm.cpp"
// clang-format off
#include <hwy/foreach_target.h>
#include <hwy/highway.h>
// clang-format on

#include <cmath>

#include "kernels/simd/backend.hpp"
#include "kernels/simd/layernorm.hpp"

HWY_BEFORE_NAMESPACE();
namespace aigc::simd {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;

// Two passes like the reference (mean, then the squares of x - mean), both over a row
// that stays in L1; a third writes y.
void LayernormRowsImpl(const LayernormShape& s, const float* HWY_RESTRICT x,
                       const float* HWY_RESTRICT gamma, const float* HWY_RESTRICT beta,
                       float* HWY_RESTRICT y, int64_t r0, int64_t r1) {
  const DF d;
  const size_t L = hn::Lanes(d);
  const size_t C = static_cast<size_t>(s.dim);
  const size_t cv = C / L * L;
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * s.dim;
    float* yr = y + r * s.dim;
    VF vsum = hn::Zero(d);
    for (size_t c = 0; c < cv; c += L) vsum = hn::Add(vsum, hn::LoadU(d, xr + c));
    float sum = hn::GetLane(hn::SumOfLanes(d, vsum));
    for (size_t c = cv; c < C; ++c) sum += xr[c];
    const float mean = sum / static_cast<float>(C);

    const VF vmean = hn::Set(d, mean);
    VF vsq = hn::Zero(d);
    for (size_t c = 0; c < cv; c += L) {
      const VF dev = hn::Sub(hn::LoadU(d, xr + c), vmean);
      vsq = hn::MulAdd(dev, dev, vsq);
    }
    float sq = hn::GetLane(hn::SumOfLanes(d, vsq));
    for (size_t c = cv; c < C; ++c) sq += (xr[c] - mean) * (xr[c] - mean);
    const float rstd = 1.0f / std::sqrt(sq / static_cast<float>(C) + s.eps);

    const VF vrstd = hn::Set(d, rstd);
    for (size_t c = 0; c < cv; c += L) {
      const VF norm = hn::Mul(hn::Sub(hn::LoadU(d, xr + c), vmean), vrstd);
      hn::StoreU(hn::MulAdd(norm, hn::LoadU(d, gamma + c), hn::LoadU(d, beta + c)), d, yr + c);
    }
    for (size_t c = cv; c < C; ++c) yr[c] = (xr[c] - mean) * rstd * gamma[c] + beta[c];
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace aigc::simd
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace aigc::simd {

HWY_EXPORT(LayernormRowsImpl);

void layernorm_rows(const LayernormShape& shape, const float* x, const float* gamma,
                    const float* beta, float* y, std::int64_t r0, std::int64_t r1) {
  HWY_DYNAMIC_DISPATCH(LayernormRowsImpl)(shape, x, gamma, beta, y, r0, r1);
}

namespace {

class SimdLayernorm final : public LayernormKernel {
 public:
  explicit SimdLayernorm(const LayernormShape& shape) : LayernormKernel(shape) {}
  void compute(const Buffer& x, const Buffer& gamma, const Buffer& beta, Buffer& y) override {
    layernorm_rows(shape(), x.as<const float>(), gamma.as<const float>(), beta.as<const float>(),
                   y.as<float>(), 0, shape().rows);
  }

 private:
};

}  // namespace

std::unique_ptr<LayernormKernel> make_layernorm_kernel(const LayernormShape& shape) {
  return std::make_unique<SimdLayernorm>(shape);
}

AIGC_REGISTER_KERNEL(kernels(), LayernormShape,
                     [](Backend&, const LayernormShape& s) { return make_layernorm_kernel(s); });

}  // namespace aigc::simd
#endif  // HWY_ONCE
