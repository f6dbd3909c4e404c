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
    default:
      return 0;  // q4_1, q5_1: w = d u + m
  }
}

// A quantized per block of 32: int8 values, each block's fp32 scale and the sum of its values.
struct QuantizedA {
  std::vector<std::int8_t> p;      // [m][k]
  std::vector<float> d;            // [m][k / 32]
  std::vector<std::int32_t> sums;  // [m][k / 32]
};

// Each block as core's round_to_int8_blocks rounds it (int8_block.hpp), the values gemv_int8
// takes; a NaN makes its block's scale NaN.
AIGC_INT8_TARGET void quantize_a(const GemmView& g, QuantizedA& q) {
  const std::size_t M = std::size_t(g.m), K = std::size_t(g.k), blocks = K / 32;
  q.p.resize(M * K);
  q.d.resize(M * blocks);
  q.sums.resize(M * blocks);
  for (std::size_t i = 0; i < M; ++i) {
    for (std::size_t b = 0; b < blocks; ++b) {
      const auto [p0, p1, d] = quantize_int8_block(g.a + i * std::size_t(g.lda) + 32 * b);
      std::int8_t* out = q.p.data() + i * K + 32 * b;
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm512_cvtepi32_epi8(p0));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16), _mm512_cvtepi32_epi8(p1));
      q.d[i * blocks + b] = d;
      q.sums[i * blocks + b] = _mm512_reduce_add_epi32(_mm512_add_epi32(p0, p1));
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

// B's columns j0 .. j0 + 15 (fewer at the edge: the rest zero) as a panel: per block, kGroups
// vectors of 16 lanes x 4 quants, then the block's 16 scales and 16 mins.
struct Panel {
  std::vector<std::uint8_t> quants;  // [blocks][kGroups][kLanes][4]
  std::vector<float> scales, mins;   // [blocks][kLanes]
};

template <WeightFormat F>
AIGC_INT8_TARGET void pack_panel(const GemmView& g, std::size_t j0, Panel& panel) {
  const std::size_t blocks = std::size_t(g.k) / 32,
                    columns = std::min(kLanes, std::size_t(g.n) - j0);
  constexpr std::size_t kBytes = std::size_t(block_bytes(F));
  panel.quants.assign(blocks * kGroups * kLanes * 4, 0);
  panel.scales.assign(blocks * kLanes, 0.0f);
  panel.mins.assign(has_block_min(F) ? blocks * kLanes : 0, 0.0f);
  alignas(32) std::uint8_t unpacked[32];
  for (std::size_t c = 0; c < columns; ++c) {
    const std::uint8_t* row = g.b_stored + (j0 + c) * std::size_t(g.ldb_bytes);
    for (std::size_t b = 0; b < blocks; ++b) {
      const std::uint8_t* block = row + b * kBytes;
      _mm256_store_si256(reinterpret_cast<__m256i*>(unpacked), unpack_block<F>(block));
      std::uint8_t* to = panel.quants.data() + (b * kGroups * kLanes + c) * 4;
      for (std::size_t group = 0; group < kGroups; ++group)
        std::memcpy(to + group * kLanes * 4, unpacked + 4 * group, 4);
      panel.scales[b * kLanes + c] = half_at(block);
      if constexpr (has_block_min(F)) panel.mins[b * kLanes + c] = half_at(block + 2);
    }
  }
}

// C rows i0 .. i0 + R - 1, columns of two panels (their first column j0; `columns` of them
// real), over all of K.
template <WeightFormat F, std::size_t R>
AIGC_INT8_TARGET void micro_tile(const GemmView& g, const QuantizedA& a, std::size_t i0,
                                 const Panel* panels, std::size_t j0, std::size_t columns) {
  const std::size_t K = std::size_t(g.k), blocks = K / 32;
  constexpr std::int32_t kOffset = quant_offset(F);
  __m512 acc[R][kPanelPair];
  for (std::size_t r = 0; r < R; ++r) {
    for (std::size_t p = 0; p < kPanelPair; ++p) acc[r][p] = _mm512_setzero_ps();
  }
  for (std::size_t b = 0; b < blocks; ++b) {
    __m512i dot[R][kPanelPair];
    for (std::size_t r = 0; r < R; ++r) {
      // The offset's share, subtracted up front: sum (u - offset) p = sum u p - offset sum p.
      const __m512i start = _mm512_set1_epi32(-kOffset * a.sums[(i0 + r) * blocks + b]);
      for (std::size_t p = 0; p < kPanelPair; ++p) dot[r][p] = start;
    }
    const std::uint8_t* q0 = panels[0].quants.data() + b * kGroups * kLanes * 4;
    const std::uint8_t* q1 = panels[1].quants.data() + b * kGroups * kLanes * 4;
    for (std::size_t group = 0; group < kGroups; ++group) {
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
    const __m512 d0 = _mm512_loadu_ps(panels[0].scales.data() + b * kLanes);
    const __m512 d1 = _mm512_loadu_ps(panels[1].scales.data() + b * kLanes);
    for (std::size_t r = 0; r < R; ++r) {
      const float da = a.d[(i0 + r) * blocks + b];
      const __m512 s = _mm512_set1_ps(da);
      acc[r][0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot[r][0]), _mm512_mul_ps(d0, s), acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot[r][1]), _mm512_mul_ps(d1, s), acc[r][1]);
      if constexpr (has_block_min(F)) {
        const __m512 ms = _mm512_set1_ps(da * static_cast<float>(a.sums[(i0 + r) * blocks + b]));
        acc[r][0] =
            _mm512_fmadd_ps(_mm512_loadu_ps(panels[0].mins.data() + b * kLanes), ms, acc[r][0]);
        acc[r][1] =
            _mm512_fmadd_ps(_mm512_loadu_ps(panels[1].mins.data() + b * kLanes), ms, acc[r][1]);
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
    default:
      throw std::logic_error("gemm_int8: not a block format");
  }
}

}  // namespace aigc::simd
