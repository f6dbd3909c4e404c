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
#include <hwy/cache_control.h>
// clang-format on

#include <cstring>
#include <type_traits>
#include <vector>

#include "core/float16.hpp"
#include "core/weight_format.hpp"
#include "kernels/simd/gemm.hpp"
#include "kernels/simd/gemv_int8.hpp"

HWY_BEFORE_NAMESPACE();
namespace aigc::simd {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;
using DI = hn::RebindToSigned<DF>;

// B streams from memory, and the hardware prefetchers of these VMs keep too few lines in flight
// for one core to reach the memory's bandwidth: each row is prefetched this far ahead, which
// (rows being contiguous) runs a few groups of rows ahead. Measured on a Zen 5 VM, the logits'
// q8_0 matrix-vector product (50257 x 768): none 11.8 ms, 1 KiB 5.7, 4 KiB 2.4, 8 KiB 1.70,
// 32 KiB 1.8.
constexpr size_t kPrefetchBytes = 8192;

// A block's binary16 scale, widened and broadcast: one conversion instruction where the target
// has it (F16C, AVX-512), not the branches of a portable conversion per block and row.
// Targets with a binary16 conversion instruction (F16C: Highway's AVX2 and up). Highway 1.0
// emulates it elsewhere without infinities or NaN, so those targets take the portable
// conversion, lane by lane: an infinite or NaN weight or scale must reach the result as such.
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2
constexpr bool kNativeHalf = true;
#else
constexpr bool kNativeHalf = false;
#endif

// L binary16 values at p, widened.
HWY_INLINE VF WidenHalves(const std::uint8_t* p) {
  const DF d;
  if constexpr (kNativeHalf) {
    const hn::Rebind<hwy::float16_t, DF> dh;
    return hn::PromoteTo(d, hn::LoadU(dh, reinterpret_cast<const hwy::float16_t*>(p)));
  } else {
    HWY_ALIGN float wide[hn::MaxLanes(DF())];
    for (size_t i = 0; i < hn::Lanes(d); ++i) {
      wide[i] = half_at(p + 2 * i);
    }
    return hn::Load(d, wide);
  }
}

HWY_INLINE VF Scale(const std::uint8_t* p) {
  if constexpr (kNativeHalf) {
    const hn::CappedTag<float, 1> d1;
    const hn::Rebind<hwy::float16_t, decltype(d1)> dh1;
    const auto* h = reinterpret_cast<const hwy::float16_t*>(p);
    return hn::Set(DF(), hn::GetLane(hn::PromoteTo(d1, hn::LoadU(dh1, h))));
  } else {
    return hn::Set(DF(), half_at(p));
  }
}

// L weights of a float format at p, widened.
template <WeightFormat F>
HWY_INLINE VF WidenFloats(const std::uint8_t* p) {
  if constexpr (F == WeightFormat::f16) {
    return WidenHalves(p);
  } else {
    const hn::Rebind<hwy::bfloat16_t, DF> db;
    return hn::PromoteTo(DF(), hn::LoadU(db, reinterpret_cast<const hwy::bfloat16_t*>(p)));
  }
}

// One block of 32 weights (its bytes at p) against 32 floats of A at x, as a vector of partial
// sums. q8_0 and q4_0 sum x * q (q widened to int32, then float: exact) before the scale: d * q
// is exact in fp32, so this is the reference's sum regrouped. q4_1 forms each weight d * q + m
// as dequantize() does (regrouped as d * sum(x q) + m * sum(x), the two sums would cancel where
// the weights cross zero). In a 4-bit block, element i < 16 is the low nibble of byte i and
// element i + 16 its high one.
template <WeightFormat F>
HWY_INLINE VF BlockDot(const float* HWY_RESTRICT x, const std::uint8_t* p) {
  const DF d;
  const DI di;
  constexpr size_t L = hn::MaxLanes(DF());
  VF t = hn::Zero(d);
  if constexpr (F == WeightFormat::q8_0) {
    const hn::Rebind<int8_t, DF> d8;
    const auto* q = reinterpret_cast<const int8_t*>(p + 2);
#pragma GCC unroll 8
    for (size_t i = 0; i < 32; i += L)
      t = hn::MulAdd(hn::LoadU(d, x + i), hn::ConvertTo(d, hn::PromoteTo(di, hn::LoadU(d8, q + i))),
                     t);
    return hn::Mul(Scale(p), t);
  } else if constexpr (F == WeightFormat::q4_0) {
    const hn::Rebind<uint8_t, DF> d8;
    const auto low = hn::Set(di, 15), eight = hn::Set(di, 8);
#pragma GCC unroll 4
    for (size_t i = 0; i < 16; i += L) {
      const auto bytes = hn::PromoteTo(di, hn::LoadU(d8, p + 2 + i));
      t = hn::MulAdd(hn::LoadU(d, x + i), hn::ConvertTo(d, hn::Sub(hn::And(bytes, low), eight)), t);
      t = hn::MulAdd(hn::LoadU(d, x + 16 + i),
                     hn::ConvertTo(d, hn::Sub(hn::ShiftRight<4>(bytes), eight)), t);
    }
    return hn::Mul(Scale(p), t);
  } else {  // q4_1
    const hn::Rebind<uint8_t, DF> d8;
    const auto low = hn::Set(di, 15);
    const VF scale = Scale(p), min = Scale(p + 2);
#pragma GCC unroll 4
    for (size_t i = 0; i < 16; i += L) {
      const auto bytes = hn::PromoteTo(di, hn::LoadU(d8, p + 4 + i));
      const VF w_lo = hn::Add(hn::Mul(scale, hn::ConvertTo(d, hn::And(bytes, low))), min);
      const VF w_hi = hn::Add(hn::Mul(scale, hn::ConvertTo(d, hn::ShiftRight<4>(bytes))), min);
      t = hn::MulAdd(hn::LoadU(d, x + i), w_lo, t);
      t = hn::MulAdd(hn::LoadU(d, x + 16 + i), w_hi, t);
    }
    return t;
  }
}

// The dot product of A's row (K floats) with one row of B (its bytes at `row`), over whole blocks
// (whole vectors for f16 and bf16: the caller adds the rest). One row at a time, so B streams in
// order, prefetched kPrefetchBytes ahead; independent accumulators keep the FMA pipes busy.
template <WeightFormat F>
HWY_INLINE float DotRow(const float* HWY_RESTRICT a, const std::uint8_t* row, size_t K) {
  const DF d;
  constexpr size_t L = hn::MaxLanes(DF());
  VF s0 = hn::Zero(d), s1 = hn::Zero(d), s2 = hn::Zero(d), s3 = hn::Zero(d);
  if constexpr (F == WeightFormat::f16 || F == WeightFormat::bf16) {
    size_t k = 0;
    for (; k + 4 * L <= K; k += 4 * L) {
      const std::uint8_t* w = row + 2 * k;  // two bytes a weight
      for (size_t v = 0; v < 8 * L; v += 64) hwy::Prefetch(w + v + kPrefetchBytes);
      s0 = hn::MulAdd(hn::LoadU(d, a + k), WidenFloats<F>(w), s0);
      s1 = hn::MulAdd(hn::LoadU(d, a + k + L), WidenFloats<F>(w + 2 * L), s1);
      s2 = hn::MulAdd(hn::LoadU(d, a + k + 2 * L), WidenFloats<F>(w + 4 * L), s2);
      s3 = hn::MulAdd(hn::LoadU(d, a + k + 3 * L), WidenFloats<F>(w + 6 * L), s3);
    }
    for (; k + L <= K; k += L)
      s0 = hn::MulAdd(hn::LoadU(d, a + k), WidenFloats<F>(row + 2 * k), s0);
  } else {
    constexpr size_t kBlockBytes = block_bytes(F);
    const size_t blocks = K / 32;
    size_t b = 0;
    for (; b + 2 <= blocks; b += 2) {
      const std::uint8_t* p = row + b * kBlockBytes;
      hwy::Prefetch(p + kPrefetchBytes);
      if constexpr (2 * kBlockBytes > 64) hwy::Prefetch(p + 64 + kPrefetchBytes);
      s0 = hn::Add(s0, BlockDot<F>(a + b * 32, p));
      s1 = hn::Add(s1, BlockDot<F>(a + b * 32 + 32, p + kBlockBytes));
    }
    if (b < blocks) s0 = hn::Add(s0, BlockDot<F>(a + b * 32, row + b * kBlockBytes));
  }
  return hn::GetLane(hn::SumOfLanes(d, hn::Add(hn::Add(s0, s1), hn::Add(s2, s3))));
}

// Four rows of a block format at a time (their bytes at r0..r3): out[r] = A's row . row r over
// all blocks. The block formats are bound by the widening arithmetic, not by memory: four rows
// share each load of A and each block's four sums run side by side (one row at a time through
// BlockDot is 15% slower here, measured on the logits' product). The float formats are bound
// by memory and stream best one row at a time (DotRow).
template <WeightFormat F>
HWY_INLINE void DotFourRows(const float* HWY_RESTRICT a, const std::uint8_t* r0,
                            const std::uint8_t* r1, const std::uint8_t* r2, const std::uint8_t* r3,
                            size_t K, float* out) {
  const DF d;
  const DI di;
  constexpr size_t L = hn::MaxLanes(DF());
  constexpr size_t kRows = 4;
  constexpr size_t kBlockBytes = block_bytes(F);
  const std::uint8_t* const rows[kRows] = {r0, r1, r2, r3};
  VF s[kRows] = {hn::Zero(d), hn::Zero(d), hn::Zero(d), hn::Zero(d)};
  for (size_t blk = 0; blk < K / 32; ++blk) {
    const float* x = a + blk * 32;
    const size_t at = blk * kBlockBytes;
#pragma GCC unroll 4
    for (size_t r = 0; r < kRows; ++r) hwy::Prefetch(rows[r] + at + kPrefetchBytes);
    if constexpr (F == WeightFormat::q8_0) {
      const hn::Rebind<int8_t, DF> d8;
      VF t[kRows] = {hn::Zero(d), hn::Zero(d), hn::Zero(d), hn::Zero(d)};
#pragma GCC unroll 8
      for (size_t i = 0; i < 32; i += L) {
        const VF xv = hn::LoadU(d, x + i);
#pragma GCC unroll 4
        for (size_t r = 0; r < kRows; ++r) {
          const auto* q = reinterpret_cast<const int8_t*>(rows[r] + at + 2) + i;
          t[r] = hn::MulAdd(xv, hn::ConvertTo(d, hn::PromoteTo(di, hn::LoadU(d8, q))), t[r]);
        }
      }
#pragma GCC unroll 4
      for (size_t r = 0; r < kRows; ++r) s[r] = hn::MulAdd(Scale(rows[r] + at), t[r], s[r]);
    } else if constexpr (F != WeightFormat::q8_0 && L == 16) {
      // 4-bit blocks on 16-lane vectors: the block's 16 possible weights, formed as dequantize()
      // forms them (q4_0: d (q - 8); q4_1: d q + m), make one vector, and each nibble picks its
      // weight from it (a lane permute) instead of being converted and scaled lane by lane.
      const hn::Rebind<uint8_t, DF> d8;
      const auto low = hn::Set(di, 15);
      constexpr size_t kQs = F == WeightFormat::q4_0 ? 2 : 4;  // where the nibbles start
#pragma GCC unroll 4
      for (size_t r = 0; r < kRows; ++r) {
        const std::uint8_t* p = rows[r] + at;
        const VF table = F == WeightFormat::q4_0
                             ? hn::Mul(Scale(p), hn::Sub(hn::Iota(d, 0.0f), hn::Set(d, 8.0f)))
                             : hn::Add(hn::Mul(Scale(p), hn::Iota(d, 0.0f)), Scale(p + 2));
        const auto bytes = hn::PromoteTo(di, hn::LoadU(d8, p + kQs));
        const VF w_lo = hn::TableLookupLanes(table, hn::IndicesFromVec(d, hn::And(bytes, low)));
        const VF w_hi =
            hn::TableLookupLanes(table, hn::IndicesFromVec(d, hn::ShiftRight<4>(bytes)));
        s[r] = hn::MulAdd(hn::LoadU(d, x), w_lo, s[r]);
        s[r] = hn::MulAdd(hn::LoadU(d, x + 16), w_hi, s[r]);
      }
    } else if constexpr (F == WeightFormat::q4_0) {
      const hn::Rebind<uint8_t, DF> d8;
      const auto low = hn::Set(di, 15), eight = hn::Set(di, 8);
      VF t[kRows] = {hn::Zero(d), hn::Zero(d), hn::Zero(d), hn::Zero(d)};
#pragma GCC unroll 4
      for (size_t i = 0; i < 16; i += L) {
        const VF x_lo = hn::LoadU(d, x + i), x_hi = hn::LoadU(d, x + 16 + i);
#pragma GCC unroll 4
        for (size_t r = 0; r < kRows; ++r) {
          const auto bytes = hn::PromoteTo(di, hn::LoadU(d8, rows[r] + at + 2 + i));
          t[r] = hn::MulAdd(x_lo, hn::ConvertTo(d, hn::Sub(hn::And(bytes, low), eight)), t[r]);
          t[r] = hn::MulAdd(x_hi, hn::ConvertTo(d, hn::Sub(hn::ShiftRight<4>(bytes), eight)), t[r]);
        }
      }
#pragma GCC unroll 4
      for (size_t r = 0; r < kRows; ++r) s[r] = hn::MulAdd(Scale(rows[r] + at), t[r], s[r]);
    } else {  // q4_1
      const hn::Rebind<uint8_t, DF> d8;
      const auto low = hn::Set(di, 15);
      VF scale[kRows], min[kRows];
#pragma GCC unroll 4
      for (size_t r = 0; r < kRows; ++r) {
        scale[r] = Scale(rows[r] + at);
        min[r] = Scale(rows[r] + at + 2);
      }
#pragma GCC unroll 4
      for (size_t i = 0; i < 16; i += L) {
        const VF x_lo = hn::LoadU(d, x + i), x_hi = hn::LoadU(d, x + 16 + i);
#pragma GCC unroll 4
        for (size_t r = 0; r < kRows; ++r) {
          const auto bytes = hn::PromoteTo(di, hn::LoadU(d8, rows[r] + at + 4 + i));
          const VF w_lo = hn::Add(hn::Mul(scale[r], hn::ConvertTo(d, hn::And(bytes, low))), min[r]);
          const VF w_hi =
              hn::Add(hn::Mul(scale[r], hn::ConvertTo(d, hn::ShiftRight<4>(bytes))), min[r]);
          s[r] = hn::MulAdd(x_lo, w_lo, s[r]);
          s[r] = hn::MulAdd(x_hi, w_hi, s[r]);
        }
      }
    }
  }
#pragma GCC unroll 4
  for (size_t r = 0; r < kRows; ++r) out[r] = hn::GetLane(hn::SumOfLanes(d, s[r]));
}

template <WeightFormat F>
void GemvStoredFormat(const GemmView& g) {
  const DF d;
  const size_t L = hn::Lanes(d);
  const size_t M = static_cast<size_t>(g.m), N = static_cast<size_t>(g.n),
               K = static_cast<size_t>(g.k);
  auto row = [&](size_t j) { return g.b_stored + j * g.ldb_bytes; };
  auto bias = [&](size_t j) { return g.bias != nullptr ? g.bias[j] : 0.0f; };
  size_t j = 0;
  if constexpr (is_block_format(F)) {
    for (; j + 4 <= N; j += 4) {
      for (size_t m = 0; m < M; ++m) {
        float dots[4];
        DotFourRows<F>(g.a + m * g.lda, row(j), row(j + 1), row(j + 2), row(j + 3), K, dots);
        for (size_t r = 0; r < 4; ++r) g.c[m * g.ldc + j + r] = bias(j + r) + dots[r];
      }
    }
  }
  // Whole vectors of a float format go through DotRow; the rest of a row is summed here.
  const size_t vectorized = is_block_format(F) ? K : K / L * L;
  float tail_row[16];
  for (; j < N; ++j) {
    for (size_t m = 0; m < M; ++m) {
      const float* a = g.a + m * g.lda;
      float dot = DotRow<F>(a, row(j), vectorized);
      for (size_t k = vectorized; k < K; k += 16) {  // a float format's last few weights
        const size_t n = std::min<size_t>(16, K - k);
        dequantize(F, row(j) + k * block_bytes(F), std::int64_t(n), tail_row);
        for (size_t i = 0; i < n; ++i) dot += a[k + i] * tail_row[i];
      }
      g.c[m * g.ldc + j] = bias(j) + dot;
    }
  }
}

// n weights of a row (a whole number of blocks) to fp32, as dequantize() gives them bit for bit
// (the same multiplies and adds, lane by lane): the prefill GEMM unpacks B with it into its
// packed panels.
template <WeightFormat F>
void DequantizeRowFormat(const std::uint8_t* HWY_RESTRICT p, size_t n, float* HWY_RESTRICT out) {
  const DF d;
  const DI di;
  constexpr size_t L = hn::MaxLanes(DF());
  size_t k = 0;
  if constexpr (F == WeightFormat::f16 || F == WeightFormat::bf16) {
    for (; k + L <= n; k += L) hn::StoreU(WidenFloats<F>(p + 2 * k), d, out + k);
    if (k < n) dequantize(F, p + 2 * k, std::int64_t(n - k), out + k);
  } else if constexpr (F == WeightFormat::q8_0) {
    const hn::Rebind<int8_t, DF> d8;
    for (size_t b = 0; b < n / 32; ++b, p += 34, out += 32) {
      const VF scale = Scale(p);
      const auto* q = reinterpret_cast<const int8_t*>(p + 2);
      for (size_t i = 0; i < 32; i += L)
        hn::StoreU(hn::Mul(hn::ConvertTo(d, hn::PromoteTo(di, hn::LoadU(d8, q + i))), scale), d,
                   out + i);
    }
  } else {
    const hn::Rebind<uint8_t, DF> d8;
    const auto low = hn::Set(di, 15), eight = hn::Set(di, 8);
    constexpr size_t kBlockBytes = block_bytes(F);
    for (size_t b = 0; b < n / 32; ++b, p += kBlockBytes, out += 32) {
      const VF scale = Scale(p);
      for (size_t i = 0; i < 16; i += L) {
        const auto bytes = hn::PromoteTo(di, hn::LoadU(d8, p + kBlockBytes - 16 + i));
        if constexpr (F == WeightFormat::q4_0) {
          hn::StoreU(hn::Mul(scale, hn::ConvertTo(d, hn::Sub(hn::And(bytes, low), eight))), d,
                     out + i);
          hn::StoreU(hn::Mul(scale, hn::ConvertTo(d, hn::Sub(hn::ShiftRight<4>(bytes), eight))), d,
                     out + 16 + i);
        } else {
          const VF min = Scale(p + 2);
          hn::StoreU(hn::Add(hn::Mul(scale, hn::ConvertTo(d, hn::And(bytes, low))), min), d,
                     out + i);
          hn::StoreU(hn::Add(hn::Mul(scale, hn::ConvertTo(d, hn::ShiftRight<4>(bytes))), min), d,
                     out + 16 + i);
        }
      }
    }
  }
}

float DotF32(const float* HWY_RESTRICT a, const float* HWY_RESTRICT w, size_t n) {
  const DF d;
  const size_t L = hn::Lanes(d);
  VF s0 = hn::Zero(d), s1 = hn::Zero(d);
  size_t k = 0;
  for (; k + 2 * L <= n; k += 2 * L) {
    s0 = hn::MulAdd(hn::LoadU(d, a + k), hn::LoadU(d, w + k), s0);
    s1 = hn::MulAdd(hn::LoadU(d, a + k + L), hn::LoadU(d, w + k + L), s1);
  }
  for (; k + L <= n; k += L) s0 = hn::MulAdd(hn::LoadU(d, a + k), hn::LoadU(d, w + k), s0);
  float sum = hn::GetLane(hn::SumOfLanes(d, hn::Add(s0, s1)));
  for (; k < n; ++k) sum += a[k] * w[k];
  return sum;
}

// q4_k and q6_k (the Q4_K_M files' projections and outputs) with fp32 activations: each
// super-block's weights formed in registers exactly as dequantize() forms them (d sc, times q,
// less dmin m: separate multiplies and subtraction) and multiplied into fp32 sums.
// Calls fn(e, w, odd) with the vector w of the super-block's weights e .. e + L - 1, formed
// exactly as dequantize() forms them (d sc, times q, less dmin m: separate multiplies and a
// subtraction); odd: e is in an odd sub-block (sub-blocks 2c and 2c + 1 share 32 bytes, their
// low and high nibbles: one load, two vectors).
template <typename Fn>
HWY_INLINE void ForEachWeightQ4K(const std::uint8_t* HWY_RESTRICT p, Fn&& fn) {
  const DF d;
  const DI di;
  const hn::Rebind<uint8_t, DF> d8;
  const size_t L = hn::Lanes(d);
  const float scale = half_at(p), min_scale = half_at(p + 2);
  const auto nibble = hn::Set(di, 15);
  for (int c = 0; c < 4; ++c) {
    int sc_lo = 0, m_lo = 0, sc_hi = 0, m_hi = 0;
    k_quant_scale_min(p + 4, 2 * c, sc_lo, m_lo);
    k_quant_scale_min(p + 4, 2 * c + 1, sc_hi, m_hi);
    const VF dl_lo = hn::Set(d, scale * float(sc_lo)), ml_lo = hn::Set(d, min_scale * float(m_lo));
    const VF dl_hi = hn::Set(d, scale * float(sc_hi)), ml_hi = hn::Set(d, min_scale * float(m_hi));
    const std::uint8_t* q = p + 16 + c * 32;
    for (size_t j = 0; j < 32; j += L) {
      const auto bytes = hn::PromoteTo(di, hn::LoadU(d8, q + j));
      fn(64 * c + j, hn::Sub(hn::Mul(dl_lo, hn::ConvertTo(d, hn::And(bytes, nibble))), ml_lo),
         false);
      fn(64 * c + 32 + j,
         hn::Sub(hn::Mul(dl_hi, hn::ConvertTo(d, hn::ShiftRight<4>(bytes))), ml_hi), true);
    }
  }
}

// The same for q6_k: element 128 g + 32 s + j is nibble s / 2 of ql byte 64 g + 32 (s % 2) + j
// with field s of qh byte 32 g + j as its high bits, scaled by sub-block g * 8 + 2 s + j / 16's
// scale (core/weight_format.cpp).
template <typename Fn>
HWY_INLINE void ForEachWeightQ6K(const std::uint8_t* HWY_RESTRICT p, Fn&& fn) {
  const DF d;
  const DI di;
  const hn::Rebind<uint8_t, DF> d8;
  const size_t L = hn::Lanes(d);
  const float scale = half_at(p + 208);
  const auto* scales = reinterpret_cast<const std::int8_t*>(p + 192);
  const auto nibble = hn::Set(di, 15), two_bits = hn::Set(di, 3), offset = hn::Set(di, 32);
  for (int g = 0; g < 2; ++g) {
    for (int s = 0; s < 4; ++s) {
      for (size_t j = 0; j < 32; j += L) {
        const VF dl = hn::Set(d, scale * float(scales[g * 8 + 2 * s + int(j / 16)]));
        const auto ql = hn::PromoteTo(di, hn::LoadU(d8, p + g * 64 + 32 * (s % 2) + j));
        const auto low = s < 2 ? hn::And(ql, nibble) : hn::ShiftRight<4>(ql);
        const auto qh = hn::PromoteTo(di, hn::LoadU(d8, p + 128 + g * 32 + j));
        const auto high = hn::And(hn::ShiftRightSame(qh, 2 * s), two_bits);
        const auto q = hn::Sub(hn::Or(low, hn::ShiftLeft<4>(high)), offset);
        fn(size_t(g * 128 + s * 32) + j, hn::Mul(dl, hn::ConvertTo(d, q)), false);
      }
    }
  }
}

// q4_k and q6_k (the Q4_K_M files' projections and outputs) with fp32 activations: each
// super-block's weights formed in registers as dequantize() forms them and multiplied into fp32
// sums (q4_k's odd sub-blocks on a second accumulator: two dependency chains instead of one).
HWY_INLINE VF DotSuperQ4K(const float* HWY_RESTRICT x, const std::uint8_t* HWY_RESTRICT p, VF acc) {
  const DF d;
  VF acc_high = hn::Zero(d);
  ForEachWeightQ4K(p, [&](size_t e, VF w, bool odd) {
    VF& sum = odd ? acc_high : acc;
    sum = hn::MulAdd(hn::LoadU(d, x + e), w, sum);
  });
  return hn::Add(acc, acc_high);
}

HWY_INLINE VF DotSuperQ6K(const float* HWY_RESTRICT x, const std::uint8_t* HWY_RESTRICT p, VF acc) {
  const DF d;
  ForEachWeightQ6K(p, [&](size_t e, VF w, bool) { acc = hn::MulAdd(hn::LoadU(d, x + e), w, acc); });
  return acc;
}

template <WeightFormat F>
void GemvStoredKQuant(const GemmView& g) {
  const DF d;
  constexpr std::size_t kBytes = std::size_t(block_bytes(F));
  const std::int64_t supers = g.k / 256;
  for (std::int64_t j = 0; j < g.n; ++j) {
    const std::uint8_t* row = g.b_stored + j * g.ldb_bytes;
    for (std::int64_t m = 0; m < g.m; ++m) {
      const float* a = g.a + m * g.lda;
      VF acc = hn::Zero(d);
      for (std::int64_t b = 0; b < supers; ++b) {
        hwy::Prefetch(row + b * kBytes + kPrefetchBytes);
        if constexpr (F == WeightFormat::q4_k) {
          acc = DotSuperQ4K(a + 256 * b, row + b * kBytes, acc);
        } else {
          acc = DotSuperQ6K(a + 256 * b, row + b * kBytes, acc);
        }
      }
      g.c[m * g.ldc + j] =
          (g.bias != nullptr ? g.bias[j] : 0.0f) + hn::GetLane(hn::SumOfLanes(d, acc));
    }
  }
}

// The prefill's unpacking of the formats the decode takes elsewhere (gemv_int8, the K-quant
// dots), bit for bit dequantize()'s: the same products and sums, lane by lane (no fused
// multiply-add where dequantize() rounds twice).

// q5_0 and q5_1: the nibbles of q4_0/q4_1 with a fifth bit each from the block's 32-bit qh
// (element j's bit j), less 16 for q5_0, plus the min for q5_1.
template <WeightFormat F>
void DequantizeRowQ5(const std::uint8_t* HWY_RESTRICT p, size_t n, float* HWY_RESTRICT out) {
  const DF d;
  const DI di;
  const hn::Rebind<uint8_t, DF> d8;
  const size_t L = hn::Lanes(d);
  constexpr size_t kBlockBytes = block_bytes(F), kQs = block_quants_offset(F);
  const auto low = hn::Set(di, 15), one = hn::Set(di, 1);
  const auto offset = hn::Set(di, F == WeightFormat::q5_0 ? 16 : 0);
  for (size_t b = 0; b < n / 32; ++b, p += kBlockBytes, out += 32) {
    const VF scale = Scale(p);
    std::uint32_t bits = 0;
    std::memcpy(&bits, p + kQs - 4, 4);
    const auto qh = hn::Set(di, static_cast<std::int32_t>(bits));
    for (size_t i = 0; i < 16; i += L) {
      const auto bytes = hn::PromoteTo(di, hn::LoadU(d8, p + kQs + i));
      auto fifth = [&](size_t first) {  // bits first .. first + L - 1 of qh, as 16s
        return hn::ShiftLeft<4>(
            hn::And(hn::Shr(qh, hn::Iota(di, static_cast<std::int32_t>(first))), one));
      };
      const auto q_lo = hn::Sub(hn::Or(hn::And(bytes, low), fifth(i)), offset);
      const auto q_hi = hn::Sub(hn::Or(hn::ShiftRight<4>(bytes), fifth(16 + i)), offset);
      VF w_lo = hn::Mul(scale, hn::ConvertTo(d, q_lo)),
         w_hi = hn::Mul(scale, hn::ConvertTo(d, q_hi));
      if constexpr (F == WeightFormat::q5_1) {
        const VF min = Scale(p + 2);
        w_lo = hn::Add(w_lo, min);
        w_hi = hn::Add(w_hi, min);
      }
      hn::StoreU(w_lo, d, out + i);
      hn::StoreU(w_hi, d, out + 16 + i);
    }
  }
}

// q4_k's and q6_k's super-blocks of 256 as dequantize() forms them.
HWY_INLINE void UnpackSuperQ4K(const std::uint8_t* HWY_RESTRICT p, float* HWY_RESTRICT out) {
  ForEachWeightQ4K(p, [&](size_t e, VF w, bool) { hn::StoreU(w, DF(), out + e); });
}

HWY_INLINE void UnpackSuperQ6K(const std::uint8_t* HWY_RESTRICT p, float* HWY_RESTRICT out) {
  ForEachWeightQ6K(p, [&](size_t e, VF w, bool) { hn::StoreU(w, DF(), out + e); });
}

// The formats above, by value; false for the others.
bool DequantizeRowOwn(WeightFormat f, const std::uint8_t* p, size_t n, float* out) {
  switch (f) {
    case WeightFormat::q5_0:
      DequantizeRowQ5<WeightFormat::q5_0>(p, n, out);
      return true;
    case WeightFormat::q5_1:
      DequantizeRowQ5<WeightFormat::q5_1>(p, n, out);
      return true;
    case WeightFormat::q4_k:
    case WeightFormat::q6_k:
      for (size_t b = 0; b < n / 256; ++b) {
        const std::uint8_t* block = p + b * size_t(block_bytes(f));
        if (f == WeightFormat::q4_k) {
          UnpackSuperQ4K(block, out + 256 * b);
        } else {
          UnpackSuperQ6K(block, out + 256 * b);
        }
      }
      return true;
    default:
      return false;
  }
}

void GemvStoredGeneric(const GemmView& g) {
  thread_local std::vector<float> w;
  w.resize(static_cast<size_t>(g.k));
  for (std::int64_t j = 0; j < g.n; ++j) {
    dequantize(g.b_format, g.b_stored + j * g.ldb_bytes, g.k, w.data());
    for (std::int64_t m = 0; m < g.m; ++m) {
      const float bias = g.bias != nullptr ? g.bias[j] : 0.0f;
      g.c[m * g.ldc + j] = bias + DotF32(g.a + m * g.lda, w.data(), static_cast<size_t>(g.k));
    }
  }
}

// fn(std::integral_constant<WeightFormat, F>) for a stored format with vector kernels above;
// nothing for the others.
template <typename Fn>
HWY_INLINE void WithStoredFormat(WeightFormat f, Fn&& fn) {
  using WF = WeightFormat;
  switch (f) {
    case WF::f16:
      return fn(std::integral_constant<WF, WF::f16>());
    case WF::bf16:
      return fn(std::integral_constant<WF, WF::bf16>());
    case WF::q8_0:
      return fn(std::integral_constant<WF, WF::q8_0>());
    case WF::q4_0:
      return fn(std::integral_constant<WF, WF::q4_0>());
    case WF::q4_1:
      return fn(std::integral_constant<WF, WF::q4_1>());
    default:
      break;
  }
}

// The formats WithStoredFormat takes. The prefill unpacks q5_0, q5_1, q4_k and q6_k with
// DequantizeRowOwn, the others with the format table's dequantize; their decode is q4_k's and
// q6_k's own (GemvStoredKQuant), else a row unpacked by the table at a time and multiplied in fp32
// (GemvStoredGeneric: q2_k, q3_k, q5_k, and q5_0 and q5_1 where gemv_int8 does not run): correct on
// the stored bytes, not yet fast.
bool HasVectorKernel(WeightFormat f) {
  bool has = false;
  WithStoredFormat(f, [&](auto) { has = true; });
  return has;
}

void DequantizeRowImpl(WeightFormat f, const std::uint8_t* p, size_t n, float* out) {
  if (DequantizeRowOwn(f, p, n, out)) return;
  if (!HasVectorKernel(f)) return dequantize(f, p, std::int64_t(n), out);
  WithStoredFormat(f, [&](auto format) { DequantizeRowFormat<format.value>(p, n, out); });
}

bool Avx512TargetImpl() { return HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3; }

void GemvStoredImpl(const GemmView& g) {
  if (g.b_format == WeightFormat::q4_k) return GemvStoredKQuant<WeightFormat::q4_k>(g);
  if (g.b_format == WeightFormat::q6_k) return GemvStoredKQuant<WeightFormat::q6_k>(g);
  if (!HasVectorKernel(g.b_format)) return GemvStoredGeneric(g);
  WithStoredFormat(g.b_format, [&](auto format) { GemvStoredFormat<format.value>(g); });
}

}  // namespace HWY_NAMESPACE
}  // namespace aigc::simd
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace aigc::simd {

HWY_EXPORT(GemvStoredImpl);
HWY_EXPORT(DequantizeRowImpl);
HWY_EXPORT(Avx512TargetImpl);

bool avx512_dispatched() { return HWY_DYNAMIC_DISPATCH(Avx512TargetImpl)(); }

bool int8_dot_dispatched() { return has_int8_dot() && avx512_dispatched(); }

void gemv_stored(const GemmView& view) { HWY_DYNAMIC_DISPATCH(GemvStoredImpl)(view); }

void dequantize_row(WeightFormat f, const std::uint8_t* stored, std::int64_t n, float* out) {
  HWY_DYNAMIC_DISPATCH(DequantizeRowImpl)(f, stored, static_cast<size_t>(n), out);
}

}  // namespace aigc::simd
#endif  // HWY_ONCE
