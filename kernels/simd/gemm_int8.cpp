// The block formats' prefill on int8 dot products (see gemm_int8.hpp for what it computes).
//
// Why: a prefill's C = A B^T on fp32 products widens every 4-, 5- or 8-bit weight to fp32 and
// multiplies at the fp32 FMA rate (16 products a cycle on a Zen 4 core), while vpdpbusd takes 64
// int8 products a cycle. B is unpacked once per call into panels of 16 columns whose int8
// quants lie as vpdpbusd reads them (lane j: column j's four consecutive k), with each block's
// scale (and min) per column beside them; A is quantized once per call. The micro-kernel then
// sums a block of 32 k exactly in int32 for kRows rows x 32 columns, and scales and accumulates
// it in fp32: one conversion and two multiply-adds per 32 products of each element.
//
// Error: as gemv_int8's (gemv_int8.cpp): A's element rounds to d p within r amax of its block,
// weights are exact, block sums exact in int32, and each element's fp32 scaling and sequential
// accumulation of K / 32 block terms (and the bias) stays within gamma(K + 20) of
// sum_k amax_k (|d_w q_k| + |m|).
#include "kernels/simd/gemm_int8.hpp"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <vector>

#include "core/float16.hpp"
#include "kernels/simd/gemv_int8.hpp"
#include "kernels/simd/int8_block.hpp"

namespace aigc::simd {
namespace {

constexpr std::size_t kLanes = 16;     // columns of a panel: one zmm of int32 sums
constexpr std::size_t kGroups = 8;     // groups of four k in a block of 32
constexpr std::size_t kRows = 4;       // rows of A per micro-tile
constexpr std::size_t kPanelPair = 2;  // panels per micro-tile: 32 columns

// The offset a format's unsigned quants carry: q = u - offset (q8_0's signed quants are stored
// here as u = q + 128, vpdpbusd multiplying unsigned by signed bytes).
constexpr int quant_offset(WeightFormat f) {
  switch (f) {
    case WeightFormat::q8_0:
      return 128;
    case WeightFormat::q4_0:
      return 8;
    case WeightFormat::q5_0:
      return 16;
    case WeightFormat::q6_k:
      return 32;
    default:
      return 0;  // q4_1, q5_1, q4_k, q5_k: w = d u + m
  }
}
// q6_k scales each 16 weights: a unit of 32 k has two scales, summed in two int32 halves.
constexpr bool has_half_scales(WeightFormat f) { return f == WeightFormat::q6_k; }

// A quantized per block of 32: int8 values, each block's fp32 scale and the sum of its values.
struct QuantizedA {
  std::vector<std::int8_t> p;           // [m][k]
  std::vector<float> d;                 // [m][k / 32]
  std::vector<std::int32_t> sums;       // [m][k / 32]
  std::vector<std::int32_t> half_sums;  // [m][k / 16]: sums of elements 0-15 and 16-31
};

// Each block as core's round_to_int8_blocks rounds it (int8_block.hpp), the values gemv_int8
// takes; a NaN makes its block's scale NaN.
AIGC_INT8_TARGET void quantize_a(const GemmView& g, QuantizedA& q) {
  const std::size_t M = std::size_t(g.m), K = std::size_t(g.k), blocks = K / 32;
  q.p.resize(M * K);
  q.d.resize(M * blocks);
  q.sums.resize(M * blocks);
  q.half_sums.resize(2 * M * blocks);
  for (std::size_t i = 0; i < M; ++i) {
    for (std::size_t b = 0; b < blocks; ++b) {
      const auto [p0, p1, d] = quantize_int8_block(g.a + i * std::size_t(g.lda) + 32 * b);
      std::int8_t* out = q.p.data() + i * K + 32 * b;
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm512_cvtepi32_epi8(p0));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16), _mm512_cvtepi32_epi8(p1));
      q.d[i * blocks + b] = d;
      const std::int32_t lo = _mm512_reduce_add_epi32(p0), hi = _mm512_reduce_add_epi32(p1);
      q.sums[i * blocks + b] = lo + hi;
      q.half_sums[2 * (i * blocks + b)] = lo;
      q.half_sums[2 * (i * blocks + b) + 1] = hi;
    }
  }
}

// One block's 32 unsigned quants (see quant_offset), in k order, from its stored bytes.
template <WeightFormat F>
AIGC_INT8_TARGET __m256i unpack_block(const std::uint8_t* p) {
  constexpr std::size_t kQs = std::size_t(block_quants_offset(F));
  if constexpr (F == WeightFormat::q8_0) {
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + kQs));
    return _mm256_xor_si256(q, _mm256_set1_epi8(static_cast<char>(0x80)));  // q + 128
  } else {
    // Element j < 16 is byte j's low nibble, element 16 + j its high one.
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + kQs));
    const __m128i nibble = _mm_set1_epi8(15);
    __m256i u = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_and_si128(bytes, nibble)),
                                        _mm_and_si128(_mm_srli_epi16(bytes, 4), nibble), 1);
    if constexpr (F == WeightFormat::q5_0 || F == WeightFormat::q5_1) {
      std::uint32_t fifth = 0;  // bit j: element j's fifth bit (just before the quants)
      std::memcpy(&fifth, p + kQs - 4, 4);
      u = _mm256_mask_blend_epi8(fifth, u, _mm256_or_si256(u, _mm256_set1_epi8(16)));
    }
    return u;
  }
}

// A unit of 32 k's weights: w = scale[h] (u - quant_offset) + min for element h * 16 + j.
struct UnitScales {
  float scale[2];
  float min;
};

AIGC_INT8_TARGET inline __m256i load32(const std::uint8_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

// Sub-block s (0..7) of a q4_k or q5_k super-block: w = d sc u - dmin m (dequantize's d sc and
// dmin m, both exact in fp32: an f16 times a 6-bit integer). The nibbles of sub-blocks 2c and
// 2c + 1 share 32 bytes (low, high); q5_k's fifth bit of element j is bit s of qh byte j.
template <WeightFormat F>
AIGC_INT8_TARGET __m256i unpack_q45_k(const std::uint8_t* p, std::size_t s, UnitScales& scales) {
  int sc = 0, m = 0;
  k_quant_scale_min(p + 4, int(s), sc, m);
  scales.scale[0] = scales.scale[1] = half_at(p) * float(sc);
  scales.min = -(half_at(p + 2) * float(m));
  constexpr std::size_t kQs = F == WeightFormat::q5_k ? 48 : 16;
  const __m256i bytes = load32(p + kQs + 32 * (s / 2));
  const __m256i nibble = _mm256_set1_epi8(15);
  __m256i u = _mm256_and_si256(s % 2 == 0 ? bytes : _mm256_srli_epi16(bytes, 4), nibble);
  if constexpr (F == WeightFormat::q5_k) {
    const __mmask32 fifth =
        _mm256_test_epi8_mask(load32(p + 16), _mm256_set1_epi8(static_cast<char>(1u << s)));
    u = _mm256_mask_blend_epi8(fifth, u, _mm256_or_si256(u, _mm256_set1_epi8(16)));
  }
  return u;
}

// Sub-block s (0..7) of a q6_k super-block, s = 4 g + t: element j's low nibble is nibble t / 2
// of ql byte 64 g + 32 (t % 2) + j, its high two bits field t of qh byte 32 g + j (as
// dequantize_q6_k reads them); the two halves' scales d sc[2 s] and d sc[2 s + 1].
AIGC_INT8_TARGET inline __m256i unpack_q6_k(const std::uint8_t* p, std::size_t s,
                                            UnitScales& scales) {
  const std::size_t g = s / 4, t = s % 4;
  const auto* sc = reinterpret_cast<const std::int8_t*>(p + 192);
  const float d = half_at(p + 208);
  scales.scale[0] = d * float(sc[2 * s]);
  scales.scale[1] = d * float(sc[2 * s + 1]);
  scales.min = 0.0f;
  const __m256i low = _mm256_and_si256(
      _mm256_srl_epi16(load32(p + 64 * g + 32 * (t % 2)), _mm_cvtsi32_si128(int(4 * (t / 2)))),
      _mm256_set1_epi8(15));
  const __m256i high =
      _mm256_and_si256(_mm256_srl_epi16(load32(p + 128 + 32 * g), _mm_cvtsi32_si128(int(2 * t))),
                       _mm256_set1_epi8(3));
  return _mm256_or_si256(low, _mm256_slli_epi16(high, 4));
}

// Unit b (k = 32 b .. 32 b + 31) of a row at `row`: a legacy block, or sub-block b % 8 of
// super-block b / 8.
template <WeightFormat F>
AIGC_INT8_TARGET __m256i unpack_unit(const std::uint8_t* row, std::size_t b, UnitScales& scales) {
  constexpr std::size_t kBytes = std::size_t(block_bytes(F));
  if constexpr (F == WeightFormat::q4_k || F == WeightFormat::q5_k) {
    return unpack_q45_k<F>(row + b / 8 * kBytes, b % 8, scales);
  } else if constexpr (F == WeightFormat::q6_k) {
    return unpack_q6_k(row + b / 8 * kBytes, b % 8, scales);
  } else {
    const std::uint8_t* block = row + b * kBytes;
    scales.scale[0] = scales.scale[1] = half_at(block);
    scales.min = has_block_min(F) ? half_at(block + 2) : 0.0f;
    return unpack_block<F>(block);
  }
}

constexpr std::size_t halves(WeightFormat f) { return has_half_scales(f) ? 2 : 1; }

// B's columns j0 .. j0 + 15 (fewer at the edge: the rest zero) as a panel: per unit of 32 k,
// kGroups vectors of 16 lanes x 4 quants, then the unit's 16 scales (two sets for q6_k's
// halves) and 16 mins.
struct Panel {
  std::vector<std::uint8_t> quants;  // [units][kGroups][kLanes][4]
  std::vector<float> scales, mins;   // [units][halves][kLanes], [units][kLanes]
};

template <WeightFormat F>
AIGC_INT8_TARGET void pack_panel(const GemmView& g, std::size_t j0, Panel& panel) {
  const std::size_t units = std::size_t(g.k) / 32,
                    columns = std::min(kLanes, std::size_t(g.n) - j0);
  constexpr std::size_t kHalves = halves(F);
  panel.quants.assign(units * kGroups * kLanes * 4, 0);
  panel.scales.assign(units * kHalves * kLanes, 0.0f);
  panel.mins.assign(adds_min(F) ? units * kLanes : 0, 0.0f);
  alignas(32) std::uint8_t unpacked[32];
  for (std::size_t c = 0; c < columns; ++c) {
    const std::uint8_t* row = g.b_stored + (j0 + c) * std::size_t(g.ldb_bytes);
    for (std::size_t b = 0; b < units; ++b) {
      UnitScales scales{};
      _mm256_store_si256(reinterpret_cast<__m256i*>(unpacked), unpack_unit<F>(row, b, scales));
      std::uint8_t* to = panel.quants.data() + (b * kGroups * kLanes + c) * 4;
      for (std::size_t group = 0; group < kGroups; ++group)
        std::memcpy(to + group * kLanes * 4, unpacked + 4 * group, 4);
      for (std::size_t h = 0; h < kHalves; ++h)
        panel.scales[(b * kHalves + h) * kLanes + c] = scales.scale[h];
      if constexpr (adds_min(F)) panel.mins[b * kLanes + c] = scales.min;
    }
  }
}

// C rows i0 .. i0 + R - 1, columns of two panels (their first column j0; `columns` of them
// real), over all of K. Per unit and half: the int32 dot products (the offset's share
// subtracted up front: sum (u - offset) p = sum u p - offset sum p), scaled by B's scales,
// then by A's block scale into the fp32 sums.
template <WeightFormat F, std::size_t R>
AIGC_INT8_TARGET void micro_tile(const GemmView& g, const QuantizedA& a, std::size_t i0,
                                 const Panel* panels, std::size_t j0, std::size_t columns) {
  const std::size_t K = std::size_t(g.k), units = K / 32;
  constexpr std::int32_t kOffset = quant_offset(F);
  constexpr std::size_t kHalves = halves(F), kHalfGroups = kGroups / kHalves;
  __m512 acc[R][kPanelPair];
  for (std::size_t r = 0; r < R; ++r) {
    for (std::size_t p = 0; p < kPanelPair; ++p) acc[r][p] = _mm512_setzero_ps();
  }
  for (std::size_t b = 0; b < units; ++b) {
    __m512 scaled[R][kPanelPair];  // this unit's sum over k of B's weights times A's int8s
    for (std::size_t h = 0; h < kHalves; ++h) {
      __m512i dot[R][kPanelPair];
      for (std::size_t r = 0; r < R; ++r) {
        const std::size_t unit = (i0 + r) * units + b;
        const std::int32_t sum = kHalves == 1 ? a.sums[unit] : a.half_sums[2 * unit + h];
        const __m512i start = _mm512_set1_epi32(-kOffset * sum);
        for (std::size_t p = 0; p < kPanelPair; ++p) dot[r][p] = start;
      }
      const std::uint8_t* q0 = panels[0].quants.data() + b * kGroups * kLanes * 4;
      const std::uint8_t* q1 = panels[1].quants.data() + b * kGroups * kLanes * 4;
      for (std::size_t group = h * kHalfGroups; group < (h + 1) * kHalfGroups; ++group) {
        const __m512i w0 = _mm512_loadu_si512(q0 + group * kLanes * 4);
        const __m512i w1 = _mm512_loadu_si512(q1 + group * kLanes * 4);
        for (std::size_t r = 0; r < R; ++r) {
          std::int32_t four;
          std::memcpy(&four, a.p.data() + (i0 + r) * K + 32 * b + 4 * group, 4);
          const __m512i x = _mm512_set1_epi32(four);
          dot[r][0] = _mm512_dpbusd_epi32(dot[r][0], w0, x);
          dot[r][1] = _mm512_dpbusd_epi32(dot[r][1], w1, x);
        }
      }
      const std::size_t at = (b * kHalves + h) * kLanes;
      const __m512 d[kPanelPair] = {_mm512_loadu_ps(panels[0].scales.data() + at),
                                    _mm512_loadu_ps(panels[1].scales.data() + at)};
      for (std::size_t r = 0; r < R; ++r) {
        for (std::size_t p = 0; p < kPanelPair; ++p) {
          const __m512 dotf = _mm512_cvtepi32_ps(dot[r][p]);
          scaled[r][p] =
              h == 0 ? _mm512_mul_ps(dotf, d[p]) : _mm512_fmadd_ps(dotf, d[p], scaled[r][p]);
        }
      }
    }
    for (std::size_t r = 0; r < R; ++r) {
      const std::size_t unit = (i0 + r) * units + b;
      const float da = a.d[unit];
      const __m512 s = _mm512_set1_ps(da);
      for (std::size_t p = 0; p < kPanelPair; ++p)
        acc[r][p] = _mm512_fmadd_ps(scaled[r][p], s, acc[r][p]);
      if constexpr (adds_min(F)) {
        const __m512 ms = _mm512_set1_ps(da * static_cast<float>(a.sums[unit]));
        for (std::size_t p = 0; p < kPanelPair; ++p) {
          acc[r][p] =
              _mm512_fmadd_ps(_mm512_loadu_ps(panels[p].mins.data() + b * kLanes), ms, acc[r][p]);
        }
      }
    }
  }
  for (std::size_t r = 0; r < R; ++r) {
    float* c = g.c + (i0 + r) * std::size_t(g.ldc) + j0;
    for (std::size_t p = 0; p < kPanelPair; ++p) {
      const std::size_t first = p * kLanes;
      if (first >= columns) break;
      const std::size_t n = std::min(kLanes, columns - first);
      const __mmask16 mask = static_cast<__mmask16>((1u << n) - 1u);
      __m512 v = acc[r][p];
      if (g.bias != nullptr) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, g.bias + j0 + first));
      _mm512_mask_storeu_ps(c + first, mask, v);
    }
  }
}

template <WeightFormat F>
void gemm_format(const GemmView& g) {
  thread_local QuantizedA a;
  thread_local Panel panels[kPanelPair];
  quantize_a(g, a);
  const std::size_t M = std::size_t(g.m), N = std::size_t(g.n);
  for (std::size_t j0 = 0; j0 < N; j0 += kPanelPair * kLanes) {
    for (std::size_t p = 0; p < kPanelPair; ++p) {
      if (j0 + p * kLanes < N) {
        pack_panel<F>(g, j0 + p * kLanes, panels[p]);
      } else {  // past the last column: an empty panel of zero weights
        panels[p].quants.assign(panels[0].quants.size(), 0);
        panels[p].scales.assign(panels[0].scales.size(), 0.0f);
        panels[p].mins.assign(panels[0].mins.size(), 0.0f);
      }
    }
    const std::size_t columns = std::min(kPanelPair * kLanes, N - j0);
    std::size_t i = 0;
    for (; i + kRows <= M; i += kRows) micro_tile<F, kRows>(g, a, i, panels, j0, columns);
    switch (M - i) {
      case 3:
        micro_tile<F, 3>(g, a, i, panels, j0, columns);
        break;
      case 2:
        micro_tile<F, 2>(g, a, i, panels, j0, columns);
        break;
      case 1:
        micro_tile<F, 1>(g, a, i, panels, j0, columns);
        break;
      default:
        break;
    }
  }
}

}  // namespace

void gemm_int8(const GemmView& g) {
  switch (g.b_format) {
    case WeightFormat::q8_0:
      return gemm_format<WeightFormat::q8_0>(g);
    case WeightFormat::q4_0:
      return gemm_format<WeightFormat::q4_0>(g);
    case WeightFormat::q4_1:
      return gemm_format<WeightFormat::q4_1>(g);
    case WeightFormat::q5_0:
      return gemm_format<WeightFormat::q5_0>(g);
    case WeightFormat::q5_1:
      return gemm_format<WeightFormat::q5_1>(g);
    case WeightFormat::q4_k:
      return gemm_format<WeightFormat::q4_k>(g);
    case WeightFormat::q5_k:
      return gemm_format<WeightFormat::q5_k>(g);
    case WeightFormat::q6_k:
      return gemm_format<WeightFormat::q6_k>(g);
    default:
      throw std::logic_error("gemm_int8: not a block format");
  }
}

}  // namespace aigc::simd
