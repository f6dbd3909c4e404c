// The block formats' decode on int8 dot products (see gemv_int8.hpp for what it computes).
//
// Why: with fp32 activations every 4-bit or 8-bit weight is widened to fp32 and multiplied in
// fp32, and one core then computes slower than memory delivers (measured on a Zen 5 VM, the
// q8_0 logits product ran at 29 G weights/s from cache and from memory alike, while memory
// gave the f16 one 43 GB/s). vpdpbusd multiplies 64 int8 pairs and sums them by four in one
// instruction: one zmm holds two blocks, so the fp32 work (convert, scale, accumulate) is paid
// once per two blocks of 32 instead of four times per block.
//
// Error: A's element x of a block with largest magnitude amax becomes d p, d = fl(amax / 127),
// p = round(fl(x fl(1/d))) in [-127, 127], so |x - d p| <= d (1/2 + 255 u) (the product and
// reciprocal each round once, |x / d| <= 127 (1 + u)), and d <= amax / 127 (1 + u): at most
// r = (1 + u)(1/2 + 255 u) / 127 of amax. Weights are exact (d_w q + m as dequantize() gives
// them), integer block sums are exact in int32, and the fp32 scaling and accumulation of
// K / 32 block terms (16 lanes, then a lane sum, then the bias) round within gamma(K + 20) of
// sum |d_w q| |d p| + |m| |d p|. Both are at most sum_k amax_k (|d_w q_k| + |m|) (1 + r) with
// amax_k the amax of k's block: core/weight_format's int8_activation_rounding() and the op
// cases' check (workloads/matmul.cpp) use exactly this.
#include "kernels/simd/gemv_int8.hpp"

#include <cpuid.h>
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <vector>

#include "core/float16.hpp"
#include "kernels/simd/int8_block.hpp"

namespace aigc::simd {
namespace {

// As gemv_stored.cpp: B streams from memory and is prefetched this far ahead, row by row.
constexpr std::size_t kPrefetchBytes = 8192;

// A's row quantized for one format, in k order. Blocks go in pairs (one zmm of int8
// activations per pair: block A's 32 then block B's, dot-product lanes 0-7 A's, 8-15 B's); an
// odd last block is summed in scalar integers. The nibble formats' quants are unpacked into
// the same order (pair_dot); the K-quants' pairs are 64 consecutive k of a super-block
// (sub-blocks 2c and 2c + 1, whose nibbles share 32 bytes: low, then high).
struct QuantizedRow {
  std::vector<std::int8_t> x;                   // K values
  std::vector<float> scale;                     // per block: d
  std::vector<std::int32_t> sum;                // per block: sum of p (q4_1's and q5_1's min)
  std::vector<float> lane_scale;                // per pair, 16 lanes: the lane's block's d
  std::vector<std::int32_t> minus_offset_sums;  // q4_0, q5_0, q6_k: -offset * (the lane's 4 p)
  std::vector<float> lane_sums;                 // q4_1, q5_1: d * (the lane's 4 p)
  // The K-quants, 16 lanes per super-block of 256, laid out as the weights' scales are
  // (k_quant_dot multiplies the two in one instruction): q4_k, q5_k: lane s the d of block s,
  // lane 8 + s its d * (sum of p); q6_k: lane g the d of the block of 16-element group g.
  std::vector<float> super_scales;
};

// The offset the quants are stored with (q4_0: q - 8, q5_0: q - 16, q6_k: q - 32; the formats
// with a min have none).
constexpr int quant_offset(WeightFormat f) {
  return f == WeightFormat::q4_0   ? 8
         : f == WeightFormat::q5_0 ? 16
         : f == WeightFormat::q6_k ? 32
                                   : 0;
}
constexpr bool has_fifth_bit(WeightFormat f) {
  return f == WeightFormat::q5_0 || f == WeightFormat::q5_1;
}

AIGC_INT8_TARGET void quantize_row(const float* a, std::size_t K, WeightFormat f, QuantizedRow& q) {
  const std::size_t blocks = K / 32, pairs = blocks / 2;
  q.x.resize(K);
  q.scale.resize(blocks);
  q.sum.resize(blocks);
  for (std::size_t b = 0; b < blocks; ++b) {
    const auto [p0, p1, d] = quantize_int8_block(a + 32 * b);
    q.scale[b] = d;
    q.sum[b] = _mm512_reduce_add_epi32(_mm512_add_epi32(p0, p1));
    std::int8_t* x = q.x.data() + 32 * b;
    _mm_storeu_si128(reinterpret_cast<__m128i*>(x), _mm512_cvtepi32_epi8(p0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(x + 16), _mm512_cvtepi32_epi8(p1));
  }
  q.lane_scale.resize(16 * pairs);
  q.minus_offset_sums.resize(quant_offset(f) != 0 ? 16 * pairs : 0);
  q.lane_sums.resize(has_block_min(f) ? 16 * pairs : 0);
  for (std::size_t i = 0; i < pairs; ++i) {
    const __m512 d = _mm512_mask_blend_ps(0xFF00, _mm512_set1_ps(q.scale[2 * i]),
                                          _mm512_set1_ps(q.scale[2 * i + 1]));
    _mm512_storeu_ps(q.lane_scale.data() + 16 * i, d);
    const __m512i xv = _mm512_loadu_si512(q.x.data() + 64 * i);
    if (quant_offset(f) != 0) {
      const __m512i offsets = _mm512_dpbusd_epi32(
          _mm512_setzero_si512(), _mm512_set1_epi8(static_cast<char>(quant_offset(f))), xv);
      _mm512_storeu_si512(q.minus_offset_sums.data() + 16 * i,
                          _mm512_sub_epi32(_mm512_setzero_si512(), offsets));
    } else if (has_block_min(f)) {
      const __m512i sums = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_set1_epi8(1), xv);
      _mm512_storeu_ps(q.lane_sums.data() + 16 * i, _mm512_mul_ps(d, _mm512_cvtepi32_ps(sums)));
    }
  }
  q.super_scales.resize(is_k_quant(f) ? K / 16 : 0);
  for (std::size_t sb = 0; is_k_quant(f) && sb < K / 256; ++sb) {
    float* lanes = q.super_scales.data() + 16 * sb;
    for (std::size_t s = 0; s < 8; ++s) {
      const std::size_t b = 8 * sb + s;
      if (f == WeightFormat::q6_k) {
        lanes[2 * s] = lanes[2 * s + 1] = q.scale[b];
      } else {
        lanes[s] = q.scale[b];
        lanes[8 + s] = q.scale[b] * static_cast<float>(q.sum[b]);
      }
    }
  }
}

// A pair's two binary16 values at byte `at` of each block (the blocks at p and p + kBytes), in
// the lanes of their blocks (0-7, 8-15). The nibble formats' both lie in one 32-byte load
// (36 <= 2 kBytes <= 48), placed by one 256-bit word permute: two scalar loads and broadcasts
// cost a few more shuffles a pair, and a Zen 4 core's shuffle pipes, not memory, then bounded
// their decode. q8_0's blocks are 34 bytes apart.
template <WeightFormat F>
AIGC_INT8_TARGET __m512 pair_halves(const std::uint8_t* p, int at) {
  constexpr int kBytes = block_bytes(F);
  if constexpr (kBytes + 4 > 32) {  // B's scale and min beyond one 32-byte load
    return _mm512_cvtph_ps(
        _mm256_set_m128i(_mm_set1_epi16(static_cast<short>(load_u16(p + kBytes + at))),
                         _mm_set1_epi16(static_cast<short>(load_u16(p + at)))));
  } else {
    const __m256i words = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    const __m256i index =
        _mm256_blend_epi32(_mm256_set1_epi16(static_cast<short>(at / 2)),
                           _mm256_set1_epi16(static_cast<short>((kBytes + at) / 2)), 0xF0);
    return _mm512_cvtph_ps(_mm256_permutexvar_epi16(index, words));
  }
}

// One pair of blocks of one row (bytes at p) against the pair's activations xv: the int32 dot
// products by lane.
template <WeightFormat F>
AIGC_INT8_TARGET __m512i pair_dot(const std::uint8_t* p, __m512i xv, __m512i init) {
  constexpr std::size_t kBytes = std::size_t(block_bytes(F)),
                        kQs = std::size_t(block_quants_offset(F));
  // srlv's shift per 16-bit word: 0 for a block's low nibbles, 4 for its high ones.
  constexpr long long kWords = 0x0001000100010001LL;
  if constexpr (F == WeightFormat::q8_0) {
    const __m512i w = _mm512_inserti64x4(
        _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + kQs))),
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + kBytes + kQs)), 1);
    // vpdpbusd multiplies unsigned by signed bytes: |w| times x with w's sign (|-128| = 128 as
    // an unsigned byte; x is never -128).
    const __m512i signed_x =
        _mm512_mask_sub_epi8(xv, _mm512_movepi8_mask(w), _mm512_setzero_si512(), xv);
    return _mm512_dpbusd_epi32(init, _mm512_abs_epi8(w), signed_x);
  } else {
    // Each block's 16 bytes twice (low nibbles: elements 0-15, high: 16-31), A's then B's.
    const __m512i bytes =
        _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_broadcastsi128_si256(
                               _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + kQs)))),
                           _mm256_broadcastsi128_si256(
                               _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + kBytes + kQs))),
                           1);
    const __m512i high_half =
        _mm512_set_epi64(4 * kWords, 4 * kWords, 0, 0, 4 * kWords, 4 * kWords, 0, 0);
    __m512i w = _mm512_and_si512(_mm512_srlv_epi16(bytes, high_half), _mm512_set1_epi8(15));
    if constexpr (has_fifth_bit(F)) {
      // Bit j of a block's 32 fifth bits (little-endian, after its scale and min) is element
      // j's: byte j of the block's 32 in w.
      std::uint32_t a = 0, b = 0;
      std::memcpy(&a, p + kQs - 4, 4);
      std::memcpy(&b, p + kBytes + kQs - 4, 4);
      w = _mm512_mask_add_epi8(w, _cvtu64_mask64(std::uint64_t(a) | std::uint64_t(b) << 32), w,
                               _mm512_set1_epi8(16));
    }
    return _mm512_dpbusd_epi32(init, w, xv);
  }
}

// The odd last block of a row (bytes at p) in scalar integers and the same fp32 steps.
// Not inlined: GCC 12, inlining this loop into the VNNI functions above, vectorized its signed x
// signed bytes with vpdpbusd (unsigned x signed) and got the products wrong (seen here, K = 32).
template <WeightFormat F>
__attribute__((noinline)) float last_block(const std::uint8_t* p, const QuantizedRow& q,
                                           std::size_t b) {
  const std::int8_t* x = q.x.data() + 32 * b;
  std::int32_t dot = 0;
  if constexpr (F == WeightFormat::q8_0) {
    for (std::size_t k = 0; k < 32; ++k) dot += static_cast<std::int8_t>(p[2 + k]) * x[k];
  } else {
    const std::int32_t offset = quant_offset(F);
    std::uint32_t fifth = 0;
    if constexpr (has_fifth_bit(F)) std::memcpy(&fifth, p + block_quants_offset(F) - 4, 4);
    for (std::size_t i = 0; i < 16; ++i) {
      const std::uint8_t byte = p[std::size_t(block_quants_offset(F)) + i];
      const std::int32_t lo = (byte & 15) | std::int32_t((fifth >> i) & 1u) << 4;
      const std::int32_t hi = (byte >> 4) | std::int32_t((fifth >> (16 + i)) & 1u) << 4;
      dot += (lo - offset) * x[i] + (hi - offset) * x[16 + i];
    }
  }
  float t = (half_at(p) * q.scale[b]) * static_cast<float>(dot);
  if constexpr (has_block_min(F)) t += half_at(p + 2) * (q.scale[b] * static_cast<float>(q.sum[b]));
  return t;
}

// One pair of blocks (pair i of the row at `row`) into its sums: the scaled dot product into
// acc, q4_1's and q5_1's min term into mins.
template <WeightFormat F>
AIGC_INT8_TARGET inline void pair_step(const QuantizedRow& q, const std::uint8_t* row,
                                       std::size_t i, __m512& acc, __m512& mins) {
  constexpr std::size_t kBytes = std::size_t(block_bytes(F));
  const std::uint8_t* p = row + 2 * kBytes * i;
  _mm_prefetch(reinterpret_cast<const char*>(p + kPrefetchBytes), _MM_HINT_T0);
  if constexpr (2 * kBytes > 64)
    _mm_prefetch(reinterpret_cast<const char*>(p + 64 + kPrefetchBytes), _MM_HINT_T0);
  __m512i init = _mm512_setzero_si512();
  if constexpr (quant_offset(F) != 0)
    init = _mm512_loadu_si512(q.minus_offset_sums.data() + 16 * i);
  const __m512i dot = pair_dot<F>(p, _mm512_loadu_si512(q.x.data() + 64 * i), init);
  const __m512 scale =
      _mm512_mul_ps(pair_halves<F>(p, 0), _mm512_loadu_ps(q.lane_scale.data() + 16 * i));
  acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), scale, acc);
  if constexpr (has_block_min(F)) {
    mins =
        _mm512_fmadd_ps(pair_halves<F>(p, 2), _mm512_loadu_ps(q.lane_sums.data() + 16 * i), mins);
  }
}

// q . row for a legacy block format, but for the odd last block (row_tail), in 16 lanes to be
// summed. Even and odd pairs, and the mins, keep their own sums: one chain of dependent FMAs
// (4 cycles each) per row held a core to one pair per 4 cycles, below what memory delivers for
// the 4- and 5-bit formats.
template <WeightFormat F>
AIGC_INT8_TARGET __m512 legacy_lanes(const QuantizedRow& q, const std::uint8_t* row,
                                     std::size_t K) {
  const std::size_t pairs = K / 64;
  __m512 acc[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
  __m512 mins[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
  std::size_t i = 0;
  for (; i + 2 <= pairs; i += 2) {
    pair_step<F>(q, row, i, acc[0], mins[0]);
    pair_step<F>(q, row, i + 1, acc[1], mins[1]);
  }
  if (i < pairs) pair_step<F>(q, row, i, acc[0], mins[0]);
  return _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(mins[0], mins[1]));
}

// A K-quant super-block's 256 weights as four pairs of sub-blocks (64 k each, in k order, as
// the activations lie): each pair's unsigned quants, and the super-block's scales as 16 floats
// laid out as QuantizedRow::super_scales (q4_k, q5_k: sub-block s's d sc at lane s, its min
// -dmin m at lane 8 + s; q6_k: 16-element group g's d sc at lane g).
struct SuperBlock {
  __m512i quants[4];
  __m512 scales;
};

// q4_k, q5_k: the 12 bytes of 6-bit scales and mins as 16 floats (k_quant_scale_min's bits,
// four sub-blocks per 32-bit word: sub-blocks 0-3 keep the low 6 bits of bytes 0-3 and 4-7;
// 4-7 take a nibble of bytes 8-11 and, above it, the top 2 bits of bytes 0-3 or 4-7). d sc and
// dmin m are exact in fp32 (an f16 times a 6-bit integer), as dequantize computes them.
AIGC_INT8_TARGET inline __m512 k_quant_scales_mins(const std::uint8_t* p) {
  std::uint32_t w[3];
  std::memcpy(w, p + 4, 12);
  const std::uint32_t low6 = 0x3f3f3f3fu, nibble = 0x0f0f0f0fu, top2 = 0x03030303u;
  const std::uint32_t packed[4] = {w[0] & low6, (w[2] & nibble) | ((w[0] >> 6) & top2) << 4,
                                   w[1] & low6, ((w[2] >> 4) & nibble) | ((w[1] >> 6) & top2) << 4};
  const __m512 values = _mm512_cvtepi32_ps(
      _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(packed))));
  const __m512 factors =
      _mm512_mask_blend_ps(0xFF00, _mm512_set1_ps(half_at(p)), _mm512_set1_ps(-half_at(p + 2)));
  return _mm512_mul_ps(values, factors);
}

// q4_k, q5_k: sub-blocks 2c and 2c + 1 share the 32 bytes of nibbles at 32 c (low, high);
// q5_k's fifth bit of element j is bit s of qh byte j.
template <WeightFormat F>
AIGC_INT8_TARGET void unpack_super_block(const std::uint8_t* p, SuperBlock& out) {
  constexpr std::size_t kQs = F == WeightFormat::q5_k ? 48 : 16;
  out.scales = k_quant_scales_mins(p);
  const __m256i nibble = _mm256_set1_epi8(15);
  for (int c = 0; c < 4; ++c) {
    const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + kQs + 32 * c));
    __m512i u = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_and_si256(bytes, nibble)),
                                   _mm256_and_si256(_mm256_srli_epi16(bytes, 4), nibble), 1);
    if constexpr (F == WeightFormat::q5_k) {
      const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 16));
      const __m512i bits = _mm512_inserti64x4(
          _mm512_castsi256_si512(_mm256_set1_epi8(static_cast<char>(1u << (2 * c)))),
          _mm256_set1_epi8(static_cast<char>(1u << (2 * c + 1))), 1);
      const __mmask64 fifth =
          _mm512_test_epi8_mask(_mm512_inserti64x4(_mm512_castsi256_si512(qh), qh, 1), bits);
      u = _mm512_mask_blend_epi8(fifth, u, _mm512_or_si512(u, _mm512_set1_epi8(16)));
    }
    out.quants[c] = u;
  }
}

// q6_k: pair c = 2 g + h holds elements 128 g + 64 h .. + 63, whose low nibbles are nibble h of
// ql bytes 64 g .. + 63 and high two bits fields 2 h and 2 h + 1 of qh bytes 32 g .. + 31
// (dequantize_q6_k's reading); group g's scale is d sc[g].
template <>
AIGC_INT8_TARGET void unpack_super_block<WeightFormat::q6_k>(const std::uint8_t* p,
                                                             SuperBlock& out) {
  out.scales = _mm512_mul_ps(_mm512_set1_ps(half_at(p + 208)),
                             _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(
                                 _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 192)))));
  const __m512i nibble = _mm512_set1_epi8(15), two_bits = _mm512_set1_epi8(3);
  for (int g = 0; g < 2; ++g) {
    const __m512i ql = _mm512_loadu_si512(p + 64 * g);
    const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 128 + 32 * g));
    for (int h = 0; h < 2; ++h) {
      const __m512i low = _mm512_and_si512(h == 0 ? ql : _mm512_srli_epi16(ql, 4), nibble);
      const __m512i high =
          _mm512_and_si512(_mm512_inserti64x4(_mm512_castsi256_si512(_mm256_srli_epi16(qh, 4 * h)),
                                              _mm256_srli_epi16(qh, 4 * h + 2), 1),
                           two_bits);
      out.quants[2 * g + h] = _mm512_or_si512(low, _mm512_slli_epi16(high, 4));
    }
  }
}

// Which of the 16 scale lanes each dot-product lane of pair c takes: q4_k, q5_k: sub-block
// 2c or 2c + 1 (lanes 0-7, 8-15); q6_k: group 4c + lane / 4.
template <WeightFormat F>
AIGC_INT8_TARGET inline __m512i scale_index(int c) {
  if constexpr (F == WeightFormat::q6_k) {
    return _mm512_add_epi32(
        _mm512_srli_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                          2),
        _mm512_set1_epi32(4 * c));
  } else {
    return _mm512_add_epi32(_mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0),
                            _mm512_set1_epi32(2 * c));
  }
}

// q . row for a K-quant row. Per super-block, the weights' 16 scales times the activations'
// (super_scales) in one multiply; q4_k's and q5_k's mins (lanes 8-15) then add into their own
// sums, once per super-block: sum_k m p_k d = m d sum p. Per pair of sub-blocks one vpdpbusd,
// its lanes' scales picked from that product, one FMA into the pair position's own sum (one
// chain of dependent FMAs through a row would cap a core below what memory delivers).
template <WeightFormat F>
AIGC_INT8_TARGET __m512 k_quant_lanes(const QuantizedRow& q, const std::uint8_t* row,
                                      std::size_t K) {
  constexpr std::size_t kBytes = std::size_t(block_bytes(F));
  __m512 acc[4];
  for (int c = 0; c < 4; ++c) acc[c] = _mm512_setzero_ps();
  __m512 mins = _mm512_setzero_ps();
  SuperBlock sb;
  for (std::size_t b = 0; b < K / 256; ++b) {
    const std::uint8_t* p = row + b * kBytes;
    for (std::size_t line = 0; line < kBytes; line += 64)
      _mm_prefetch(reinterpret_cast<const char*>(p + line + kPrefetchBytes), _MM_HINT_T0);
    unpack_super_block<F>(p, sb);
    const __m512 scales = _mm512_mul_ps(sb.scales, _mm512_loadu_ps(q.super_scales.data() + 16 * b));
    if constexpr (F != WeightFormat::q6_k) mins = _mm512_mask_add_ps(mins, 0xFF00, mins, scales);
    for (int c = 0; c < 4; ++c) {
      const std::size_t i = 4 * b + std::size_t(c);  // the pair of activation blocks
      __m512i init = _mm512_setzero_si512();
      if constexpr (quant_offset(F) != 0)
        init = _mm512_loadu_si512(q.minus_offset_sums.data() + 16 * i);
      const __m512i dot =
          _mm512_dpbusd_epi32(init, sb.quants[c], _mm512_loadu_si512(q.x.data() + 64 * i));
      acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot),
                               _mm512_permutexvar_ps(scale_index<F>(c), scales), acc[c]);
    }
  }
  return _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])),
                       mins);
}

// q . row in 16 lanes to be summed, but for the odd last block of a legacy row (row_tail).
template <WeightFormat F>
AIGC_INT8_TARGET __m512 row_lanes(const QuantizedRow& q, const std::uint8_t* row, std::size_t K) {
  if constexpr (is_k_quant(F)) {
    return k_quant_lanes<F>(q, row, K);
  } else {
    return legacy_lanes<F>(q, row, K);
  }
}

template <WeightFormat F>
float row_tail(const QuantizedRow& q, const std::uint8_t* row, std::size_t K) {
  const std::size_t blocks = K / 32;
  if (is_k_quant(F) || blocks % 2 == 0) return 0.0f;
  return last_block<F>(row + (blocks - 1) * std::size_t(block_bytes(F)), q, blocks - 1);
}

// Lane r of the result: the sum of v[r]'s 16 lanes. A tree of 45 shuffles and adds for 16 rows
// instead of a reduction per row, whose dependent steps (~30 cycles) a row of a few hundred
// weights could not hide: a quarter of a K = 896 decode's time went there.
AIGC_INT8_TARGET inline __m512 sum_lanes16(const __m512* v) {
  __m512 pairs[8], quads[4];
  for (int k = 0; k < 8; ++k)  // per 128-bit lane: rows 2k, 2k + 1, 2k, 2k + 1
    pairs[k] = _mm512_add_ps(_mm512_unpacklo_ps(v[2 * k], v[2 * k + 1]),
                             _mm512_unpackhi_ps(v[2 * k], v[2 * k + 1]));
  for (int k = 0; k < 4; ++k)  // per 128-bit lane: rows 4k .. 4k + 3
    quads[k] = _mm512_add_ps(_mm512_shuffle_ps(pairs[2 * k], pairs[2 * k + 1], 0x44),
                             _mm512_shuffle_ps(pairs[2 * k], pairs[2 * k + 1], 0xEE));
  const __m512 h0 = _mm512_add_ps(_mm512_shuffle_f32x4(quads[0], quads[1], 0x88),
                                  _mm512_shuffle_f32x4(quads[0], quads[1], 0xDD));
  const __m512 h1 = _mm512_add_ps(_mm512_shuffle_f32x4(quads[2], quads[3], 0x88),
                                  _mm512_shuffle_f32x4(quads[2], quads[3], 0xDD));
  return _mm512_add_ps(_mm512_shuffle_f32x4(h0, h1, 0x88), _mm512_shuffle_f32x4(h0, h1, 0xDD));
}

// C's rows for B's rows in chunks of 16: each B row read once for all of A's rows, in order
// (one sequential stream, which the hardware prefetcher follows best: four B rows interleaved,
// each load of activations shared by four, ran 3x slower on a q8_0 logits product streaming
// from memory on a Zen 4 VM, Qwen2's 151936 x 896, and no faster from cache).
template <WeightFormat F>
AIGC_INT8_TARGET void chunked_rows(const GemmView& g, const QuantizedRow* quantized) {
  const std::size_t M = static_cast<std::size_t>(g.m), N = static_cast<std::size_t>(g.n),
                    K = static_cast<std::size_t>(g.k);
  __m512 lanes[kGemvMaxRows][16];
  alignas(64) float tails[kGemvMaxRows][16];
  for (std::size_t j0 = 0; j0 < N; j0 += 16) {
    const std::size_t n = std::min<std::size_t>(16, N - j0);
    for (std::size_t r = 0; r < 16; ++r) {
      for (std::size_t m = 0; m < M; ++m) {  // rows past N: zeros, which the store leaves out
        lanes[m][r] = _mm512_setzero_ps();
        tails[m][r] = 0.0f;
      }
      if (r >= n) continue;
      const std::uint8_t* row = g.b_stored + (j0 + r) * g.ldb_bytes;
      for (std::size_t m = 0; m < M; ++m) {
        lanes[m][r] = row_lanes<F>(quantized[m], row, K);
        tails[m][r] = row_tail<F>(quantized[m], row, K);
      }
    }
    const __mmask16 valid = static_cast<__mmask16>((1u << n) - 1u);
    const __m512 bias =
        g.bias != nullptr ? _mm512_maskz_loadu_ps(valid, g.bias + j0) : _mm512_setzero_ps();
    for (std::size_t m = 0; m < M; ++m) {
      const __m512 sums = _mm512_add_ps(sum_lanes16(lanes[m]), _mm512_load_ps(tails[m]));
      _mm512_mask_storeu_ps(g.c + m * g.ldc + j0, valid, _mm512_add_ps(bias, sums));
    }
  }
}

template <WeightFormat F>
void gemv_format(const GemmView& g) {
  thread_local QuantizedRow quantized[kGemvMaxRows];
  const std::size_t K = static_cast<std::size_t>(g.k);
  for (std::int64_t m = 0; m < g.m; ++m) quantize_row(g.a + m * g.lda, K, F, quantized[m]);
  chunked_rows<F>(g, quantized);
}

// One block of 32 as core's round_to_int8_blocks rounds it, the same fp32 operations in
// vectors (amax, d = amax / 127, id = 1 / d, p = round-to-even(x id), x' = d p): bit for bit
// its result for finite x (an infinite x gives -inf here, NaN there: both fail a check).
AIGC_INT8_TARGET void round_block(const float* x, float* out) {
  const Int8Block q = quantize_int8_block(x);
  const __m512 dv = _mm512_set1_ps(q.d);
  _mm512_storeu_ps(out, _mm512_mul_ps(dv, _mm512_cvtepi32_ps(q.p0)));
  _mm512_storeu_ps(out + 16, _mm512_mul_ps(dv, _mm512_cvtepi32_ps(q.p1)));
}

}  // namespace

namespace {

// F16C is read from CPUID leaf 1 directly: clang 14's __builtin_cpu_supports does not know "f16c".
bool has_f16c() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && (ecx & bit_F16C) != 0;
}

}  // namespace

bool has_int8_dot() {
  static const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512dq") &&
                          __builtin_cpu_supports("avx512vl") &&
                          __builtin_cpu_supports("avx512vnni") && has_f16c();
  return has;
}

void round_rows_to_int8_blocks(const float* a, std::int64_t rows, std::int64_t k, std::int64_t lda,
                               float* out) {
  const bool vectors = has_int8_dot();
  for (std::int64_t i = 0; i < rows; ++i) {
    if (!vectors) {
      round_to_int8_blocks(a + i * lda, k, out + i * k);
      continue;
    }
    for (std::int64_t b = 0; b < k; b += 32) round_block(a + i * lda + b, out + i * k + b);
  }
}

namespace {

constexpr WeightFormat kInt8Formats[] = {WeightFormat::q8_0, WeightFormat::q4_0, WeightFormat::q4_1,
                                         WeightFormat::q5_0, WeightFormat::q5_1, WeightFormat::q4_k,
                                         WeightFormat::q5_k, WeightFormat::q6_k};

}  // namespace

std::vector<WeightFormat> int8_activation_formats() {
  return {std::begin(kInt8Formats), std::end(kInt8Formats)};
}

bool is_int8_activation_format(WeightFormat f) {
  return std::find(std::begin(kInt8Formats), std::end(kInt8Formats), f) != std::end(kInt8Formats);
}

void gemv_int8(const GemmView& g) {
  switch (g.b_format) {
    case WeightFormat::q8_0:
      return gemv_format<WeightFormat::q8_0>(g);
    case WeightFormat::q4_0:
      return gemv_format<WeightFormat::q4_0>(g);
    case WeightFormat::q4_1:
      return gemv_format<WeightFormat::q4_1>(g);
    case WeightFormat::q5_0:
      return gemv_format<WeightFormat::q5_0>(g);
    case WeightFormat::q5_1:
      return gemv_format<WeightFormat::q5_1>(g);
    case WeightFormat::q4_k:
      return gemv_format<WeightFormat::q4_k>(g);
    case WeightFormat::q5_k:
      return gemv_format<WeightFormat::q5_k>(g);
    case WeightFormat::q6_k:
      return gemv_format<WeightFormat::q6_k>(g);
    default:
      throw std::logic_error("gemv_int8: not a block format");
  }
}

}  // namespace aigc::simd
