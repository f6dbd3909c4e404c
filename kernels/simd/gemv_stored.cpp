// The matrix-vector path on weights stored in a reduced or compressed format (a decode step):
// B [N, K] streams once, as stored, and each block is widened to fp32 in registers, never in
// memory: bytes per weight set a decode's speed, so the weights must cross the memory bus in
// their stored size. Highway compiles this file once per SIMD target.
//
// Compiled with -ffp-contract=off (kernels/CMakeLists.txt): q4_1's weight d * q + m is formed
// with a separate multiply and add, as dequantize() forms it, so the weights the arithmetic
// sees are bit for bit those of the float64 reference.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/simd/gemv_stored.cpp"
// clang-format off
#include <hwy/foreach_target.h>
#include <hwy/highway.h>
// clang-format on

#include <cstring>

#include "core/float16.hpp"
#include "kernels/simd/gemm.hpp"

HWY_BEFORE_NAMESPACE();
namespace aigc::simd {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;
using DI = hn::RebindToSigned<DF>;

// Rows of B per pass: four independent dot products hide the FMA latency and share each load
// of A.
constexpr size_t kRows = 4;

HWY_INLINE float Scale(const std::uint8_t* p) {
  std::uint16_t h;
  std::memcpy(&h, p, 2);
  return half_to_float(h);
}

// The dot products of one row of A (K floats) with kRows rows of B (row r at b + r * ldb),
// for each format: sums[r] += a . B_r over whole blocks; the caller adds the float tails.
template <WeightFormat F>
struct Dot;

template <>
struct Dot<WeightFormat::f16> {
  static void Rows(const float* HWY_RESTRICT a, const std::uint8_t* const* b, size_t K, VF* s) {
    const DF d;
    const hn::Rebind<hwy::float16_t, DF> dh;
    const size_t L = hn::Lanes(d);
    for (size_t k = 0; k + L <= K; k += L) {
      const VF x = hn::LoadU(d, a + k);
      for (size_t r = 0; r < kRows; ++r) {
        const auto* w = reinterpret_cast<const hwy::float16_t*>(b[r]) + k;
        s[r] = hn::MulAdd(x, hn::PromoteTo(d, hn::LoadU(dh, w)), s[r]);
      }
    }
  }
};

template <>
struct Dot<WeightFormat::bf16> {
  static void Rows(const float* HWY_RESTRICT a, const std::uint8_t* const* b, size_t K, VF* s) {
    const DF d;
    const hn::Rebind<hwy::bfloat16_t, DF> dh;
    const size_t L = hn::Lanes(d);
    for (size_t k = 0; k + L <= K; k += L) {
      const VF x = hn::LoadU(d, a + k);
      for (size_t r = 0; r < kRows; ++r) {
        const auto* w = reinterpret_cast<const hwy::bfloat16_t*>(b[r]) + k;
        s[r] = hn::MulAdd(x, hn::PromoteTo(d, hn::LoadU(dh, w)), s[r]);
      }
    }
  }
};

// q8_0: sum over a block of x * q (q widened int8 -> int32 -> float, exact), then times the
// block's scale: the product d * q is exact in fp32, so this is the reference's sum regrouped.
template <>
struct Dot<WeightFormat::q8_0> {
  static void Rows(const float* HWY_RESTRICT a, const std::uint8_t* const* b, size_t K, VF* s) {
    const DF d;
    const DI di;
    const hn::Rebind<int8_t, DF> d8;
    const size_t L = hn::Lanes(d);
    for (size_t blk = 0; blk < K / 32; ++blk) {
      const float* x = a + blk * 32;
      VF t[kRows];
      for (size_t r = 0; r < kRows; ++r) t[r] = hn::Zero(d);
      for (size_t i = 0; i < 32; i += L) {
        const VF xv = hn::LoadU(d, x + i);
        for (size_t r = 0; r < kRows; ++r) {
          const auto* q = reinterpret_cast<const int8_t*>(b[r] + blk * 34 + 2) + i;
          t[r] = hn::MulAdd(xv, hn::ConvertTo(d, hn::PromoteTo(di, hn::LoadU(d8, q))), t[r]);
        }
      }
      for (size_t r = 0; r < kRows; ++r)
        s[r] = hn::MulAdd(hn::Set(d, Scale(b[r] + blk * 34)), t[r], s[r]);
    }
  }
};

// q4_0: the same with q - 8 from a nibble (element i in the low nibble of byte i, i + 16 in the
// high one).
template <>
struct Dot<WeightFormat::q4_0> {
  static void Rows(const float* HWY_RESTRICT a, const std::uint8_t* const* b, size_t K, VF* s) {
    const DF d;
    const DI di;
    const hn::Rebind<uint8_t, DF> d8;
    const size_t L = hn::Lanes(d);
    const auto low = hn::Set(di, 15), eight = hn::Set(di, 8);
    for (size_t blk = 0; blk < K / 32; ++blk) {
      const float* x = a + blk * 32;
      VF t[kRows];
      for (size_t r = 0; r < kRows; ++r) t[r] = hn::Zero(d);
      for (size_t i = 0; i < 16; i += L) {
        const VF x_lo = hn::LoadU(d, x + i), x_hi = hn::LoadU(d, x + 16 + i);
        for (size_t r = 0; r < kRows; ++r) {
          const auto bytes = hn::PromoteTo(di, hn::LoadU(d8, b[r] + blk * 18 + 2 + i));
          const VF q_lo = hn::ConvertTo(d, hn::Sub(hn::And(bytes, low), eight));
          const VF q_hi = hn::ConvertTo(d, hn::Sub(hn::ShiftRight<4>(bytes), eight));
          t[r] = hn::MulAdd(x_lo, q_lo, t[r]);
          t[r] = hn::MulAdd(x_hi, q_hi, t[r]);
        }
      }
      for (size_t r = 0; r < kRows; ++r)
        s[r] = hn::MulAdd(hn::Set(d, Scale(b[r] + blk * 18)), t[r], s[r]);
    }
  }
};

// q4_1: each weight d * q + m formed as dequantize() forms it (no regrouping: d * sum(x q) +
// m * sum(x) would cancel where the weights cross zero), then multiplied into the sum.
template <>
struct Dot<WeightFormat::q4_1> {
  static void Rows(const float* HWY_RESTRICT a, const std::uint8_t* const* b, size_t K, VF* s) {
    const DF d;
    const DI di;
    const hn::Rebind<uint8_t, DF> d8;
    const size_t L = hn::Lanes(d);
    const auto low = hn::Set(di, 15);
    for (size_t blk = 0; blk < K / 32; ++blk) {
      const float* x = a + blk * 32;
      VF scale[kRows], min[kRows];
      for (size_t r = 0; r < kRows; ++r) {
        scale[r] = hn::Set(d, Scale(b[r] + blk * 20));
        min[r] = hn::Set(d, Scale(b[r] + blk * 20 + 2));
      }
      for (size_t i = 0; i < 16; i += L) {
        const VF x_lo = hn::LoadU(d, x + i), x_hi = hn::LoadU(d, x + 16 + i);
        for (size_t r = 0; r < kRows; ++r) {
          const auto bytes = hn::PromoteTo(di, hn::LoadU(d8, b[r] + blk * 20 + 4 + i));
          const VF w_lo = hn::Add(hn::Mul(scale[r], hn::ConvertTo(d, hn::And(bytes, low))), min[r]);
          const VF w_hi =
              hn::Add(hn::Mul(scale[r], hn::ConvertTo(d, hn::ShiftRight<4>(bytes))), min[r]);
          s[r] = hn::MulAdd(x_lo, w_lo, s[r]);
          s[r] = hn::MulAdd(x_hi, w_hi, s[r]);
        }
      }
    }
  }
};

template <WeightFormat F>
void GemvStoredFormat(const GemmView& g) {
  const DF d;
  const size_t L = hn::Lanes(d);
  const size_t M = static_cast<size_t>(g.m), N = static_cast<size_t>(g.n),
               K = static_cast<size_t>(g.k);
  // Whole vectors of a float format go through Dot; the rest of a row is summed here.
  const size_t vectorized = is_block_format(F) ? K : K / L * L;
  float tail_row[16];
  for (size_t j = 0; j < N; j += kRows) {
    const size_t rows = std::min(kRows, N - j);
    const std::uint8_t* b[kRows];
    for (size_t r = 0; r < kRows; ++r)
      b[r] = r < rows ? g.b_stored + (j + r) * g.ldb_bytes : nullptr;
    for (size_t m = 0; m < M; ++m) {
      const float* a = g.a + m * g.lda;
      VF s[kRows];
      for (size_t r = 0; r < kRows; ++r) s[r] = hn::Zero(d);
      if (rows == kRows) {
        Dot<F>::Rows(a, b, vectorized, s);
      } else {
        // The last rows: each alone, with the others pointing at the first (results dropped).
        for (size_t r = 0; r < rows; ++r) {
          const std::uint8_t* one[kRows] = {b[r], b[r], b[r], b[r]};
          VF t[kRows] = {hn::Zero(d), hn::Zero(d), hn::Zero(d), hn::Zero(d)};
          Dot<F>::Rows(a, one, vectorized, t);
          s[r] = t[0];
        }
      }
      for (size_t r = 0; r < rows; ++r) {
        float dot = hn::GetLane(hn::SumOfLanes(d, s[r]));
        for (size_t k = vectorized; k < K; k += 16) {  // a float format's last few weights
          const size_t n = std::min<size_t>(16, K - k);
          dequantize(F, b[r] + k * block_bytes(F), std::int64_t(n), tail_row);
          for (size_t i = 0; i < n; ++i) dot += a[k + i] * tail_row[i];
        }
        g.c[m * g.ldc + j + r] = (g.bias != nullptr ? g.bias[j + r] : 0.0f) + dot;
      }
    }
  }
}

void GemvStoredImpl(const GemmView& g) {
  switch (g.b_format) {
    case WeightFormat::f16:
      return GemvStoredFormat<WeightFormat::f16>(g);
    case WeightFormat::bf16:
      return GemvStoredFormat<WeightFormat::bf16>(g);
    case WeightFormat::q8_0:
      return GemvStoredFormat<WeightFormat::q8_0>(g);
    case WeightFormat::q4_0:
      return GemvStoredFormat<WeightFormat::q4_0>(g);
    case WeightFormat::q4_1:
      return GemvStoredFormat<WeightFormat::q4_1>(g);
    case WeightFormat::f32:
      break;
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace aigc::simd
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace aigc::simd {

HWY_EXPORT(GemvStoredImpl);

void gemv_stored(const GemmView& view) { HWY_DYNAMIC_DISPATCH(GemvStoredImpl)(view); }

}  // namespace aigc::simd
#endif  // HWY_ONCE
