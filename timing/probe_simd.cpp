#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "timing/probe_simd.cpp"
// foreach_target must come first, then highway.h, then the contrib headers.
// clang-format off
#include <hwy/foreach_target.h>
#include <hwy/highway.h>
// clang-format on

#include "timing/probe_kernels.hpp"

HWY_BEFORE_NAMESPACE();
namespace aigc::probe {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Independent accumulator chains: latency 4 x 2 FMA ports needs at least 8 in flight.
// 12 fit the 16 registers of AVX2 with room for the two constants.
constexpr int kChains = 12;

float FmaChainsImpl(std::size_t iterations) {
  const hn::ScalableTag<float> d;
  using V = hn::Vec<decltype(d)>;
  V acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = hn::Set(d, 1.0f + 0.01f * c);
  const V m = hn::Set(d, 0.999999f), a = hn::Set(d, 1e-6f);
  for (std::size_t i = 0; i < iterations; ++i) {
    for (int c = 0; c < kChains; ++c) acc[c] = hn::MulAdd(acc[c], m, a);
  }
  V sum = acc[0];
  for (int c = 1; c < kChains; ++c) sum = hn::Add(sum, acc[c]);
  return hn::GetLane(hn::SumOfLanes(d, sum));
}

double FlopsPerIterationImpl() { return 2.0 * kChains * hn::Lanes(hn::ScalableTag<float>()); }

void TriadImpl(float* HWY_RESTRICT a, const float* HWY_RESTRICT b, const float* HWY_RESTRICT c,
               float s, std::size_t begin, std::size_t end) {
  const hn::ScalableTag<float> d;
  const std::size_t L = hn::Lanes(d);
  const auto vs = hn::Set(d, s);
  std::size_t i = begin;
  for (; i + L <= end; i += L)
    hn::StoreU(hn::MulAdd(vs, hn::LoadU(d, c + i), hn::LoadU(d, b + i)), d, a + i);
  for (; i < end; ++i) a[i] = b[i] + s * c[i];
}

float ReadSumImpl(const float* HWY_RESTRICT b, std::size_t begin, std::size_t end) {
  const hn::ScalableTag<float> d;
  const std::size_t L = hn::Lanes(d);
  auto s0 = hn::Zero(d), s1 = hn::Zero(d), s2 = hn::Zero(d), s3 = hn::Zero(d);
  std::size_t i = begin;
  for (; i + 4 * L <= end; i += 4 * L) {
    s0 = hn::Add(s0, hn::LoadU(d, b + i));
    s1 = hn::Add(s1, hn::LoadU(d, b + i + L));
    s2 = hn::Add(s2, hn::LoadU(d, b + i + 2 * L));
    s3 = hn::Add(s3, hn::LoadU(d, b + i + 3 * L));
  }
  float sum = hn::GetLane(hn::SumOfLanes(d, hn::Add(hn::Add(s0, s1), hn::Add(s2, s3))));
  for (; i < end; ++i) sum += b[i];
  return sum;
}

}  // namespace HWY_NAMESPACE
}  // namespace aigc::probe
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace aigc::probe {

HWY_EXPORT(FmaChainsImpl);
HWY_EXPORT(FlopsPerIterationImpl);
HWY_EXPORT(TriadImpl);
HWY_EXPORT(ReadSumImpl);

float fma_chains_simd(std::size_t iterations) {
  return HWY_DYNAMIC_DISPATCH(FmaChainsImpl)(iterations);
}
double flops_per_iteration_simd() { return HWY_DYNAMIC_DISPATCH(FlopsPerIterationImpl)(); }
void triad_simd(float* a, const float* b, const float* c, float s, std::size_t begin,
                std::size_t end) {
  HWY_DYNAMIC_DISPATCH(TriadImpl)(a, b, c, s, begin, end);
}

float read_sum_simd(const float* b, std::size_t begin, std::size_t end) {
  return HWY_DYNAMIC_DISPATCH(ReadSumImpl)(b, begin, end);
}

}  // namespace aigc::probe
#endif
