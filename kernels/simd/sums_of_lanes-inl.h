// Per-target helper shared by the kernels (Highway's -inl.h convention: included after
// highway.h by each file that foreach_target re-compiles, once per target).
#if defined(AIGC_SIMD_SUMS_OF_LANES_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef AIGC_SIMD_SUMS_OF_LANES_INL_H_
#undef AIGC_SIMD_SUMS_OF_LANES_INL_H_
#else
#define AIGC_SIMD_SUMS_OF_LANES_INL_H_
#endif

#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace aigc::simd {
namespace HWY_NAMESPACE {

// Writes the sums of the lanes of a, b, c and e to out[0..3], in fewer shuffles than four
// SumOfLanes (dot products finished four at a time): pairs interleaved within each 128-bit
// block, then the blocks added.
template <class D>
HWY_INLINE void StoreSumsOfLanes4(D d, hwy::HWY_NAMESPACE::Vec<D> a, hwy::HWY_NAMESPACE::Vec<D> b,
                                  hwy::HWY_NAMESPACE::Vec<D> c, hwy::HWY_NAMESPACE::Vec<D> e,
                                  float* HWY_RESTRICT out) {
  namespace hn = hwy::HWY_NAMESPACE;
#if HWY_TARGET == HWY_SCALAR
  (void)d;
  out[0] = hn::GetLane(a);
  out[1] = hn::GetLane(b);
  out[2] = hn::GetLane(c);
  out[3] = hn::GetLane(e);
#else
  const hn::Full128<float> d4;
  const hn::Repartition<double, D> dd;
  // Per block: [a0+a2, b0+b2, a1+a3, b1+b3] and the same of c, e.
  const auto ab = hn::Add(hn::InterleaveLower(d, a, b), hn::InterleaveUpper(d, a, b));
  const auto ce = hn::Add(hn::InterleaveLower(d, c, e), hn::InterleaveUpper(d, c, e));
  // Per block: [a, b, c, e] (pairs of floats moved as doubles).
  const auto abce = hn::Add(
      hn::BitCast(d, hn::InterleaveLower(dd, hn::BitCast(dd, ab), hn::BitCast(dd, ce))),
      hn::BitCast(d, hn::InterleaveUpper(dd, hn::BitCast(dd, ab), hn::BitCast(dd, ce))));
  HWY_ALIGN float blocks[hn::MaxLanes(D())];
  hn::Store(abce, d, blocks);
  auto sum = hn::Load(d4, blocks);
  for (size_t i = 4; i < hn::Lanes(d); i += 4) sum = hn::Add(sum, hn::Load(d4, blocks + i));
  hn::StoreU(sum, d4, out);
#endif
}

}  // namespace HWY_NAMESPACE
}  // namespace aigc::simd
HWY_AFTER_NAMESPACE();

#endif  // AIGC_SIMD_SUMS_OF_LANES_INL_H_
