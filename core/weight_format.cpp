// Compiled with -ffp-contract=off (core/CMakeLists.txt): a fused multiply-add would round
// differently from ggml's and numpy's separate multiply and add, and break bit-exactness.
#include "core/weight_format.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "core/errors.hpp"
#include "core/float16.hpp"

namespace aigc {

const char* weight_format_name(WeightFormat f) { return weight_format_traits(f).name; }

std::string weight_format_names() {
  std::string out;
  for (const WeightFormat f : kAllWeightFormats)
    out += fmt::format("{}{}", out.empty() ? "" : ", ", weight_format_name(f));
  return out;
}

std::optional<WeightFormat> find_weight_format(const std::string& text) {
  for (const WeightFormat f : kAllWeightFormats) {
    if (text == weight_format_name(f)) return f;
  }
  return std::nullopt;
}

WeightFormat parse_weight_format(const std::string& text, const std::string& argument) {
  if (const std::optional<WeightFormat> f = find_weight_format(text)) return *f;
  throw InvalidArgument(
      argument, fmt::format("unknown weight format '{}' (valid: {})", text, weight_format_names()));
}

std::int64_t row_bytes(WeightFormat f, std::int64_t K, const std::string& argument) {
  if (!row_fits(f, K)) {
    throw InvalidArgument(
        argument, fmt::format("{} is not a multiple of {}: {} weights come in blocks of "
                              "{} along a row (GGUF's layout, unpadded)",
                              K, block_elements(f), weight_format_name(f), block_elements(f)));
  }
  return K / block_elements(f) * block_bytes(f);
}

std::uint16_t float_to_half(float x) {
  std::uint32_t f = std::bit_cast<std::uint32_t>(x);
  const auto sign = static_cast<std::uint16_t>((f >> 16) & 0x8000u);
  f &= 0x7fffffffu;
  if (f >= 0x7f800000u) {  // infinity, or NaN: numpy keeps the payload's top bits, never 0
    if (f == 0x7f800000u) return sign | 0x7c00u;
    std::uint16_t h = static_cast<std::uint16_t>(0x7c00u + ((f & 0x007fffffu) >> 13));
    if (h == 0x7c00u) ++h;
    return sign | h;
  }
  if (f >= 0x477ff000u) return sign | 0x7c00u;  // 65520 and up round to infinity
  if (f >= 0x38800000u) {                       // a normal half (2^-14 and up)
    // Round to nearest even on the 13 dropped mantissa bits; a carry moves the exponent up.
    const std::uint32_t rounded = f + 0x0fffu + ((f >> 13) & 1u);
    return sign | static_cast<std::uint16_t>((rounded - 0x38000000u) >> 13);
  }
  // A subnormal half (or zero): the multiple of 2^-24 nearest, ties to even (the default
  // rounding mode); the scaling by 2^24 is exact, and 1024 is the smallest normal's encoding.
  const float units = std::bit_cast<float>(f) * 0x1p24f;
  return sign | static_cast<std::uint16_t>(std::nearbyint(units));
}

std::uint16_t float_to_bf16(float x) {
  std::uint32_t n = std::bit_cast<std::uint32_t>(x);
  if ((n & 0x7fffffffu) > 0x7f800000u) n = (n & 0xffff0000u) | (64u << 16);  // a quiet NaN
  return static_cast<std::uint16_t>((std::uint64_t(n) + (0x7fffu + ((n >> 16) & 1u))) >> 16);
}

namespace {

void store16(std::uint8_t* p, std::uint16_t v) { std::memcpy(p, &v, 2); }
// Elements j < 16 of a 4-bit block in the low nibbles of bytes 0..15, j + 16 in the high ones.
void pack_nibbles(const std::uint8_t* q, std::uint8_t* out) {
  for (int j = 0; j < 16; ++j) out[j] = static_cast<std::uint8_t>(q[j] | (q[j + 16] << 4));
}

void quantize_q8_0(const float* x, std::uint8_t* out) {
  float amax = 0;
  for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
  const float d = amax / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  store16(out, float_to_half(d));
  // Round half away from zero (ggml's roundf, gguf.quants' np_roundf).
  for (int j = 0; j < 32; ++j)
    out[2 + j] = static_cast<std::uint8_t>(std::int8_t(std::round(x[j] * id)));
}

// q4_0 and q5_0 (kHalf = 8, 16): the value of largest magnitude, with its sign (the first, on a
// tie), maps to -kHalf; q = min(2 kHalf - 1, trunc(x / d + kHalf + 1/2)). Returns the scale.
template <int kHalf>
float quantize_offset_block(const float* x, std::uint8_t* q) {
  float amax = 0, max = 0;
  for (int j = 0; j < 32; ++j) {
    if (std::fabs(x[j]) > amax) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  const float d = max / -float(kHalf);
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  for (int j = 0; j < 32; ++j) {
    const float t = std::trunc(x[j] * id + (float(kHalf) + 0.5f));
    q[j] = static_cast<std::uint8_t>(std::min(float(2 * kHalf - 1), t));
  }
  return d;
}

// q4_1 and q5_1 (kLevels = 15, 31): d = (max - min) / kLevels, q = min(kLevels, trunc((x - min) / d
// + 1/2)). Returns the scale and the min.
template <int kLevels>
std::pair<float, float> quantize_min_block(const float* x, std::uint8_t* q) {
  float max = x[0], min = x[0];
  for (int j = 1; j < 32; ++j) {
    max = std::max(max, x[j]);
    min = std::min(min, x[j]);
  }
  const float d = (max - min) / float(kLevels);
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  for (int j = 0; j < 32; ++j) {
    const float t = std::trunc((x[j] - min) * id + 0.5f);
    q[j] = static_cast<std::uint8_t>(std::min(float(kLevels), t));
  }
  return {d, min};
}

void quantize_q4_0(const float* x, std::uint8_t* out) {
  std::uint8_t q[32];
  store16(out, float_to_half(quantize_offset_block<8>(x, q)));
  pack_nibbles(q, out + 2);
}

void quantize_q4_1(const float* x, std::uint8_t* out) {
  std::uint8_t q[32];
  const auto [d, min] = quantize_min_block<15>(x, q);
  store16(out, float_to_half(d));
  store16(out + 2, float_to_half(min));
  pack_nibbles(q, out + 4);
}

// q5_0 and q5_1 as q4_0 and q4_1 with a fifth bit: the 32 fifth bits in a little-endian
// uint32 (bit j for element j) before the nibbles (gguf.quants' Q5_0, Q5_1).
// Writes the fifth bits at out and the low nibbles at out + 4.
void pack_five_bits(const std::uint8_t* q, std::uint8_t* out) {
  std::uint32_t qh = 0;
  std::uint8_t low[32];
  for (int j = 0; j < 32; ++j) {
    qh |= std::uint32_t(q[j] >> 4) << j;
    low[j] = q[j] & 0x0f;
  }
  std::memcpy(out, &qh, 4);
  pack_nibbles(low, out + 4);
}

void quantize_q5_0(const float* x, std::uint8_t* out) {
  std::uint8_t q[32];
  store16(out, float_to_half(quantize_offset_block<16>(x, q)));
  pack_five_bits(q, out + 2);
}

void quantize_q5_1(const float* x, std::uint8_t* out) {
  std::uint8_t q[32];
  const auto [d, min] = quantize_min_block<31>(x, q);
  store16(out, float_to_half(d));
  store16(out + 2, float_to_half(min));
  pack_five_bits(q, out + 4);
}

void dequantize_q5_0(const std::uint8_t* p, float* out) {
  const float d = half_at(p);
  std::uint32_t qh;
  std::memcpy(&qh, p + 2, 4);
  for (int j = 0; j < 16; ++j) {
    const int lo = (p[6 + j] & 0x0f) | int((qh >> j) & 1u) << 4;
    const int hi = (p[6 + j] >> 4) | int((qh >> (j + 16)) & 1u) << 4;
    out[j] = d * float(lo - 16);
    out[j + 16] = d * float(hi - 16);
  }
}

void dequantize_q5_1(const std::uint8_t* p, float* out) {
  const float d = half_at(p), m = half_at(p + 2);
  std::uint32_t qh;
  std::memcpy(&qh, p + 4, 4);
  for (int j = 0; j < 16; ++j) {
    const int lo = (p[8 + j] & 0x0f) | int((qh >> j) & 1u) << 4;
    const int hi = (p[8 + j] >> 4) | int((qh >> (j + 16)) & 1u) << 4;
    out[j] = d * float(lo) + m;
    out[j + 16] = d * float(hi) + m;
  }
}

// The K-quants' dequantization, as gguf.quants computes it (float32 products, then the min
// subtracted). Element e = 128 g + 32 s + j of a super-block (g < 2, s < 4, j < 32) takes its
// 2-bit field s of byte 32 g + j (q2_k, q3_k; q6_k's high bits) and sub-block e / 16; loops run
// over j inside a sub-block so that the compiler vectorizes them.
void dequantize_q2_k(const std::uint8_t* p, float* out) {
  const std::uint8_t* scales = p;
  const std::uint8_t* qs = p + 16;
  const float d = half_at(p + 80), dmin = half_at(p + 82);
  for (int g = 0; g < 2; ++g) {
    for (int s = 0; s < 4; ++s) {
      for (int half = 0; half < 2; ++half) {
        const int sub = g * 8 + 2 * s + half;
        const float dl = d * float(scales[sub] & 0x0f), ml = dmin * float(scales[sub] >> 4);
        for (int j = 16 * half; j < 16 * half + 16; ++j)
          out[g * 128 + s * 32 + j] = dl * float((qs[g * 32 + j] >> (2 * s)) & 3) - ml;
      }
    }
  }
}

// The third bit of element e is bit e / 32 of hmask byte e % 32; clear means 4 less.
void dequantize_q3_k(const std::uint8_t* p, float* out) {
  const std::uint8_t* hmask = p;
  const std::uint8_t* qs = p + 32;
  const float d = half_at(p + 108);
  for (int g = 0; g < 2; ++g) {
    for (int s = 0; s < 4; ++s) {
      for (int half = 0; half < 2; ++half) {
        const float dl = d * float(q3_k_scale(p + 96, g * 8 + 2 * s + half));
        for (int j = 16 * half; j < 16 * half + 16; ++j) {
          const int low = (qs[g * 32 + j] >> (2 * s)) & 3;
          const int high = (hmask[j] >> (g * 4 + s)) & 1;
          out[g * 128 + s * 32 + j] = dl * float(low - 4 + 4 * high);
        }
      }
    }
  }
}

template <bool kFifthBit>
void dequantize_q45_k(const std::uint8_t* p, float* out) {
  const float d = half_at(p), dmin = half_at(p + 2);
  const std::uint8_t* qh = p + 16;
  const std::uint8_t* qs = p + 16 + (kFifthBit ? 32 : 0);
  for (int sub = 0; sub < 8; ++sub) {
    int sc = 0, m = 0;
    k_quant_scale_min(p + 4, sub, sc, m);
    const float dl = d * float(sc), ml = dmin * float(m);
    for (int j = 0; j < 32; ++j) {
      int q = (qs[sub / 2 * 32 + j] >> (4 * (sub % 2))) & 0x0f;
      if constexpr (kFifthBit) q |= ((qh[j] >> sub) & 1) << 4;
      out[sub * 32 + j] = dl * float(q) - ml;
    }
  }
}
void dequantize_q4_k(const std::uint8_t* p, float* out) { dequantize_q45_k<false>(p, out); }
void dequantize_q5_k(const std::uint8_t* p, float* out) { dequantize_q45_k<true>(p, out); }

// q6_k: the low nibble of element 128 g + 32 s + j is nibble s / 2 of ql byte 64 g + 32 (s % 2)
// + j, its high 2 bits field s of qh byte 32 g + j.
void dequantize_q6_k(const std::uint8_t* p, float* out) {
  const std::uint8_t* ql = p;
  const std::uint8_t* qh = p + 128;
  const auto* scales = reinterpret_cast<const std::int8_t*>(p + 192);
  const float d = half_at(p + 208);
  for (int g = 0; g < 2; ++g) {
    for (int s = 0; s < 4; ++s) {
      for (int half = 0; half < 2; ++half) {
        const float dl = d * float(scales[g * 8 + 2 * s + half]);
        for (int j = 16 * half; j < 16 * half + 16; ++j) {
          const int low = (ql[g * 64 + 32 * (s % 2) + j] >> (4 * (s / 2))) & 0x0f;
          const int high = (qh[g * 32 + j] >> (2 * s)) & 3;
          out[g * 128 + s * 32 + j] = dl * float((low | high << 4) - 32);
        }
      }
    }
  }
}

// Quantizing to the K-quants. gguf.quants has no K-quant quantizer to match, and ggml's
// (make_qkx2_quants) searches scales iteratively; ours is direct, in the files' exact layouts,
// with every scale rounded up so that each sub-block's range is covered (no clipping):
//   asymmetric (q2_k, q4_k, q5_k): a sub-block's offset lo = -dmin * lm <= min(0, its minimum)
//     with lm = ceil(-min / dmin), dmin the super-block's f16 rounded up from max(-min) / Lm;
//     its step d * ls >= (max - lo) / Lq with ls = ceil(step / d), d rounded up from
//     max(step) / Ls; q = round((x - lo) / (d ls)) in 0 .. Lq.
//   symmetric (q3_k, q6_k): step d * sc >= amax / Lq, q = round(x / (d sc)) in -Lq .. Lq.
// The error of a weight is then at most half its step, which exceeds the ideal step by at most
// d: (step + max(step) / Ls) / 2 (bound_k_quant below).
std::uint16_t half_at_least(float v) {
  std::uint16_t h = float_to_half(v);
  if (half_to_float(h) < v) ++h;  // v > 0 here: the next binary16 up
  return h;
}

struct KQuantLevels {
  int sub;           // weights per sub-block (16 or 32)
  int quant_levels;  // Lq: the largest quant (asymmetric) or magnitude (symmetric)
  int scale_levels;  // Ls: the largest sub-block scale; Lm = Ls for the mins
};

// Sub-block steps and offsets for an asymmetric K-quant; fills ls, lm, q and returns d, dmin.
std::pair<std::uint16_t, std::uint16_t> quantize_asymmetric(const float* x, KQuantLevels lv,
                                                            int* ls, int* lm, std::uint8_t* q) {
  const int subs = 256 / lv.sub;
  float lo_ideal[16], hi[16], max_neg = 0;
  for (int s = 0; s < subs; ++s) {
    lo_ideal[s] = 0;
    hi[s] = 0;
    for (int j = 0; j < lv.sub; ++j) {
      lo_ideal[s] = std::min(lo_ideal[s], x[s * lv.sub + j]);
      hi[s] = std::max(hi[s], x[s * lv.sub + j]);
    }
    max_neg = std::max(max_neg, -lo_ideal[s]);
  }
  const std::uint16_t dmin_bits = half_at_least(max_neg / float(lv.scale_levels));
  const float dmin = half_to_float(dmin_bits);
  float step[16], lo[16], max_step = 0;
  for (int s = 0; s < subs; ++s) {
    lm[s] = dmin > 0 ? std::min(lv.scale_levels, int(std::ceil(-lo_ideal[s] / dmin))) : 0;
    lo[s] = -(dmin * float(lm[s]));
    step[s] = (hi[s] - lo[s]) / float(lv.quant_levels);
    max_step = std::max(max_step, step[s]);
  }
  const std::uint16_t d_bits = half_at_least(max_step / float(lv.scale_levels));
  const float d = half_to_float(d_bits);
  for (int s = 0; s < subs; ++s) {
    ls[s] = d > 0 ? std::min(lv.scale_levels, int(std::ceil(step[s] / d))) : 0;
    const float dl = d * float(ls[s]);
    for (int j = 0; j < lv.sub; ++j) {
      const float t = dl > 0 ? std::round((x[s * lv.sub + j] - lo[s]) / dl) : 0.0f;
      q[s * lv.sub + j] = static_cast<std::uint8_t>(std::clamp(t, 0.0f, float(lv.quant_levels)));
    }
  }
  return {d_bits, dmin_bits};
}

// Sub-block scales for a symmetric K-quant; fills sc and q (signed, -Lq .. Lq), returns d.
std::uint16_t quantize_symmetric(const float* x, KQuantLevels lv, int* sc, int* q) {
  float scale[16], max_scale = 0;
  for (int s = 0; s < 16; ++s) {
    float amax = 0;
    for (int j = 0; j < 16; ++j) amax = std::max(amax, std::fabs(x[s * 16 + j]));
    scale[s] = amax / float(lv.quant_levels);
    max_scale = std::max(max_scale, scale[s]);
  }
  const std::uint16_t d_bits = half_at_least(max_scale / float(lv.scale_levels));
  const float d = half_to_float(d_bits);
  for (int s = 0; s < 16; ++s) {
    sc[s] = d > 0 ? std::min(lv.scale_levels, int(std::ceil(scale[s] / d))) : 0;
    const float dl = d * float(sc[s]);
    for (int j = 0; j < 16; ++j) {
      const float t = dl > 0 ? std::round(x[s * 16 + j] / dl) : 0.0f;
      q[s * 16 + j] = int(std::clamp(t, -float(lv.quant_levels), float(lv.quant_levels)));
    }
  }
  return d_bits;
}

// A super-block with a NaN, an infinity or a magnitude past what every K-quant can hold (its f16
// super-scale times its largest sub-block scale and quant: at least 65504 x 15 x 3 = 2.9e6):
// scales of NaN, so every weight reads back NaN (the error reaches the output instead of hiding
// in a clamp, and no scale overflows into an integer conversion).
bool not_finite(const float* x) {
  for (int e = 0; e < 256; ++e) {
    if (!(std::fabs(x[e]) < 1e6f)) return true;
  }
  return false;
}
constexpr std::uint16_t kHalfNaN = 0x7e00;

void quantize_q2_k(const float* x, std::uint8_t* out) {
  std::memset(out, 0, block_bytes(WeightFormat::q2_k));
  if (not_finite(x)) return store16(out + 80, kHalfNaN);
  int ls[16], lm[16];
  std::uint8_t q[256];
  const auto [d, dmin] = quantize_asymmetric(x, {16, 3, 15}, ls, lm, q);
  for (int s = 0; s < 16; ++s) out[s] = static_cast<std::uint8_t>(ls[s] | lm[s] << 4);
  for (int e = 0; e < 256; ++e) out[16 + e / 128 * 32 + e % 32] |= q[e] << (2 * (e % 128 / 32));
  store16(out + 80, d);
  store16(out + 82, dmin);
}

void quantize_q3_k(const float* x, std::uint8_t* out) {
  std::memset(out, 0, block_bytes(WeightFormat::q3_k));
  if (not_finite(x)) return store16(out + 108, kHalfNaN);
  int sc[16], q[256];
  store16(out + 108, quantize_symmetric(x, {16, 3, 31}, sc, q));
  for (int i = 0; i < 16; ++i) {
    const int stored = sc[i] + 32;
    out[96 + i % 8] |= static_cast<std::uint8_t>((stored & 0x0f) << (4 * (i / 8)));
    out[96 + 8 + i % 4] |= static_cast<std::uint8_t>((stored >> 4) << (2 * (i / 4)));
  }
  for (int e = 0; e < 256; ++e) {
    const bool high = q[e] >= 0;  // the third bit set means no offset of -4
    const int low = high ? q[e] : q[e] + 4;
    out[32 + e / 128 * 32 + e % 32] |= static_cast<std::uint8_t>(low << (2 * (e % 128 / 32)));
    if (high) out[e % 32] |= static_cast<std::uint8_t>(1 << (e / 32));
  }
}

template <bool kFifthBit>
void quantize_q45_k(const float* x, std::uint8_t* out) {
  std::memset(out, 0, block_bytes(kFifthBit ? WeightFormat::q5_k : WeightFormat::q4_k));
  if (not_finite(x)) return store16(out, kHalfNaN);
  int ls[8], lm[8];
  std::uint8_t q[256];
  const auto [d, dmin] = quantize_asymmetric(x, {32, kFifthBit ? 31 : 15, 63}, ls, lm, q);
  store16(out, d);
  store16(out + 2, dmin);
  std::uint8_t* s = out + 4;
  for (int j = 0; j < 4; ++j) {
    s[j] = static_cast<std::uint8_t>(ls[j] | (ls[j + 4] >> 4) << 6);
    s[j + 4] = static_cast<std::uint8_t>(lm[j] | (lm[j + 4] >> 4) << 6);
    s[j + 8] = static_cast<std::uint8_t>((ls[j + 4] & 0x0f) | (lm[j + 4] & 0x0f) << 4);
  }
  std::uint8_t* qs = out + 16 + (kFifthBit ? 32 : 0);
  for (int e = 0; e < 256; ++e) {
    const int sub = e / 32, j = e % 32;
    qs[sub / 2 * 32 + j] |= static_cast<std::uint8_t>((q[e] & 0x0f) << (4 * (sub % 2)));
    if constexpr (kFifthBit) out[16 + j] |= static_cast<std::uint8_t>((q[e] >> 4) << sub);
  }
}
void quantize_q4_k(const float* x, std::uint8_t* out) { quantize_q45_k<false>(x, out); }
void quantize_q5_k(const float* x, std::uint8_t* out) { quantize_q45_k<true>(x, out); }

void quantize_q6_k(const float* x, std::uint8_t* out) {
  std::memset(out, 0, block_bytes(WeightFormat::q6_k));
  if (not_finite(x)) return store16(out + 208, kHalfNaN);
  int sc[16], q[256];
  store16(out + 208, quantize_symmetric(x, {16, 31, 127}, sc, q));
  for (int s = 0; s < 16; ++s) out[192 + s] = static_cast<std::uint8_t>(std::int8_t(sc[s]));
  for (int e = 0; e < 256; ++e) {
    const int u = q[e] + 32, g = e / 128, r = e % 128;
    out[g * 64 + r % 64] |= static_cast<std::uint8_t>((u & 0x0f) << (4 * (r / 64)));
    out[128 + g * 32 + r % 32] |= static_cast<std::uint8_t>((u >> 4) << (2 * (r / 32)));
  }
}

void quantize_f32(const float* x, std::uint8_t* out) { std::memcpy(out, x, 4); }
void quantize_f16(const float* x, std::uint8_t* out) { store16(out, float_to_half(*x)); }
void quantize_bf16(const float* x, std::uint8_t* out) { store16(out, float_to_bf16(*x)); }
void dequantize_f32(const std::uint8_t* in, float* out) { std::memcpy(out, in, 4); }
void dequantize_f16(const std::uint8_t* in, float* out) { *out = half_at(in); }
void dequantize_bf16(const std::uint8_t* in, float* out) { *out = bf16_to_float(load_u16(in)); }

void dequantize_q8_0(const std::uint8_t* p, float* out) {
  const float d = half_at(p);
  for (int j = 0; j < 32; ++j) out[j] = float(static_cast<std::int8_t>(p[2 + j])) * d;
}

void dequantize_q4_0(const std::uint8_t* p, float* out) {
  const float d = half_at(p);
  for (int j = 0; j < 16; ++j) {
    out[j] = d * float(int(p[2 + j] & 0x0f) - 8);
    out[j + 16] = d * float(int(p[2 + j] >> 4) - 8);
  }
}

void dequantize_q4_1(const std::uint8_t* p, float* out) {
  const float d = half_at(p), m = half_at(p + 2);
  for (int j = 0; j < 16; ++j) {
    out[j] = d * float(p[4 + j] & 0x0f) + m;
    out[j + 16] = d * float(p[4 + j] >> 4) + m;
  }
}

// Per format, with h(v) = u16 |v| + 2^-25 the error of storing v in binary16 (u16 = 2^-11 its
// unit roundoff; 2^-25 half its smallest subnormal step, for scales of tiny weights):
//   f16: round to nearest, |error| <= h(x); bf16: |error| <= 2^-8 |x|.
//   q8_0: d = amax/127 stored as d' with |d' - d| <= h(d); q = round(x/d) is within 1/2 of x/d
//     and |q| <= 127, so |q d' - x| <= 127 h(d) + d/2.
//   q4_0: d = -max/8; t = x/d + 8 lies in [0, 16]; q = min(15, trunc(t + 1/2)) is within 1/2
//     of t, except t in [15.5, 16] (x near -max), within 1: |(q - 8) d' - x| <= 8 h(d) + |d|.
//   q4_1: d = (max - min)/15; q = trunc((x - min)/d + 1/2) within 1/2 of (x - min)/d, and
//     x' = q d' + m': |x' - x| <= d/2 + 15 h(d) + h(min).
// Each gets a factor 1.01 for the float32 arithmetic of the quantizer and dequantizer.
double half_error(double v) { return 0x1p-11 * std::fabs(v) + 0x1p-25; }

struct BlockRange {
  double amax = 0, max = -INFINITY, min = INFINITY;
};
BlockRange range_of(std::span<const float> block) {
  BlockRange r;
  for (const float x : block) {
    r.amax = std::max(r.amax, double(std::fabs(x)));
    r.max = std::max(r.max, double(x));
    r.min = std::min(r.min, double(x));
  }
  return r;
}

double bound_f32(std::span<const float>) { return 0; }
double bound_f16(std::span<const float> b) { return 1.01 * half_error(range_of(b).amax); }
double bound_bf16(std::span<const float> b) { return 1.01 * 0x1p-8 * range_of(b).amax; }
double bound_q8_0(std::span<const float> b) {
  const double amax = range_of(b).amax;
  return 1.01 * (127 * half_error(amax / 127) + amax / 127 / 2);
}
double bound_q4_0(std::span<const float> b) {
  const double amax = range_of(b).amax;
  return 1.01 * (8 * half_error(amax / 8) + amax / 8);
}
double bound_q4_1(std::span<const float> b) {
  const BlockRange r = range_of(b);
  const double d = (r.max - r.min) / 15;
  return 1.01 * (d / 2 + 15 * half_error(d) + half_error(r.min));
}

double bound_q5_0(std::span<const float> b) {
  const double amax = range_of(b).amax;
  return 1.01 * (16 * half_error(amax / 16) + amax / 16);
}
double bound_q5_1(std::span<const float> b) {
  const BlockRange r = range_of(b);
  const double d = (r.max - r.min) / 31;
  return 1.01 * (d / 2 + 31 * half_error(d) + half_error(r.min));
}
// The K-quants (quantize_asymmetric, quantize_symmetric above): a weight is within half its
// sub-block's step, and the step exceeds the ideal one (the sub-block's range over Lq) by at
// most d, itself max(ideal step) / Ls rounded up to binary16 (by at most 2^-10 relative, or a
// subnormal step 2^-24). Asymmetric: the range runs from lo >= min(0, minimum) - dmin to the
// maximum, dmin = max(-min(0, minimum)) / Ls rounded up the same way. The dequantization's
// float32 products and difference add a few u of the magnitudes (u = 2^-24).
double bound_k_quant(std::span<const float> b, KQuantLevels lv, bool symmetric) {
  const int subs = 256 / lv.sub;
  const double up = 1 + 0x1p-10, u = 0x1p-24;
  double max_neg = 0, amax = 0;
  for (int s = 0; s < subs; ++s) {
    const BlockRange r = range_of(b.subspan(std::size_t(s * lv.sub), std::size_t(lv.sub)));
    max_neg = std::max(max_neg, -std::min(r.min, 0.0));
    amax = std::max(amax, r.amax);
  }
  const double dmin = symmetric ? 0 : max_neg / lv.scale_levels * up + u;
  double max_step = 0;
  for (int s = 0; s < subs; ++s) {
    const BlockRange r = range_of(b.subspan(std::size_t(s * lv.sub), std::size_t(lv.sub)));
    const double range = symmetric ? r.amax : std::max(r.max, 0.0) - std::min(r.min, 0.0) + dmin;
    max_step = std::max(max_step, range / lv.quant_levels);
  }
  const double d = max_step / lv.scale_levels * up + u;
  return 1.01 * ((max_step + d) / 2 + 4 * u * (amax + 2 * dmin * lv.scale_levels));
}
double bound_q2_k(std::span<const float> b) { return bound_k_quant(b, {16, 3, 15}, false); }
double bound_q3_k(std::span<const float> b) { return bound_k_quant(b, {16, 3, 31}, true); }
double bound_q4_k(std::span<const float> b) { return bound_k_quant(b, {32, 15, 63}, false); }
double bound_q5_k(std::span<const float> b) { return bound_k_quant(b, {32, 31, 63}, false); }
double bound_q6_k(std::span<const float> b) { return bound_k_quant(b, {16, 31, 127}, true); }

// A block function applied to a run of blocks, inlined (a call per f16 weight would cost more than
// the conversion).
template <void (*Block)(const float*, std::uint8_t*), std::int64_t E, std::int64_t B>
void quantize_blocks(const float* x, std::int64_t blocks, std::uint8_t* out) {
  for (std::int64_t b = 0; b < blocks; ++b) Block(x + b * E, out + b * B);
}
template <void (*Block)(const std::uint8_t*, float*), std::int64_t E, std::int64_t B>
void dequantize_blocks(const std::uint8_t* in, std::int64_t blocks, float* out) {
  for (std::int64_t b = 0; b < blocks; ++b) Block(in + b * B, out + b * E);
}
// One row: the name is the enumerator's, the block functions run `blocks` blocks inlined.
#define AIGC_FORMAT(fmt, description, E, B, quants_offset, rounding, scale, min)           \
  {                                                                                        \
    F::fmt, #fmt, description, E, B, quants_offset, quantize_blocks<quantize_##fmt, E, B>, \
        dequantize_blocks<dequantize_##fmt, E, B>, bound_##fmt, rounding, {                \
      scale, min                                                                           \
    }                                                                                      \
  }

using F = WeightFormat;
using R = ActivationRounding;
// The one table of formats: adding one is its row here, its kernels, and its fixture case.
constexpr WeightFormatTraits kTable[] = {
    AIGC_FORMAT(f32, "fp32, 4 bytes a weight", 1, 4, 0, R::none, -1, -1),
    AIGC_FORMAT(f16, "IEEE binary16, 2 bytes a weight", 1, 2, 0, R::none, -1, -1),
    AIGC_FORMAT(bf16, "bfloat16 (a float's upper half), 2 bytes a weight", 1, 2, 0, R::bf16, -1,
                -1),
    AIGC_FORMAT(q8_0, "GGUF Q8_0: blocks of 32, an f16 scale, 32 int8 (8.5 bits a weight)", 32, 34,
                2, R::int8_blocks, 0, -1),
    AIGC_FORMAT(q4_0, "GGUF Q4_0: blocks of 32, an f16 scale, 32 nibbles less 8 (4.5 bits)", 32, 18,
                2, R::int8_blocks, 0, -1),
    AIGC_FORMAT(q4_1, "GGUF Q4_1: blocks of 32, f16 scale and min, 32 nibbles (5 bits)", 32, 20, 4,
                R::int8_blocks, 0, 2),
    AIGC_FORMAT(q5_0, "GGUF Q5_0: blocks of 32, an f16 scale, 32 5-bit quants less 16 (5.5 bits)",
                32, 22, 6, R::int8_blocks, 0, -1),
    AIGC_FORMAT(q5_1, "GGUF Q5_1: blocks of 32, f16 scale and min, 32 5-bit quants (6 bits)", 32,
                24, 8, R::int8_blocks, 0, 2),
    AIGC_FORMAT(q2_k,
                "GGUF Q2_K: super-blocks of 256, 16 4-bit scales and mins, 2-bit quants "
                "(2.625 bits)",
                256, 84, 0, R::none, 80, 82),
    AIGC_FORMAT(q3_k, "GGUF Q3_K: super-blocks of 256, 16 6-bit scales, 3-bit quants (3.4375 bits)",
                256, 110, 0, R::none, 108, -1),
    AIGC_FORMAT(q4_k, "GGUF Q4_K: super-blocks of 256, 8 6-bit scales and mins, nibbles (4.5 bits)",
                256, 144, 0, R::none, 0, 2),
    AIGC_FORMAT(q5_k,
                "GGUF Q5_K: super-blocks of 256, 8 6-bit scales and mins, 5-bit quants "
                "(5.5 bits)",
                256, 176, 0, R::none, 0, 2),
    AIGC_FORMAT(q6_k, "GGUF Q6_K: super-blocks of 256, 16 int8 scales, 6-bit quants (6.5625 bits)",
                256, 210, 0, R::none, 208, -1),
};
#undef AIGC_FORMAT

// The layout the CUDA kernels read (core/weight_format_layout.hpp) is the table's.
constexpr bool layouts_agree() {
  for (const WeightFormatTraits& t : kTable) {
    if (t.block_elements != block_elements(t.format) || t.block_bytes != block_bytes(t.format))
      return false;
    if (t.quants_offset != block_quants_offset(t.format)) return false;
  }
  return std::size(kTable) == std::size(kAllWeightFormats);
}
static_assert(layouts_agree(), "kTable and weight_format_layout.hpp disagree");

}  // namespace

std::span<const WeightFormatTraits> weight_format_table() { return kTable; }

const WeightFormatTraits& weight_format_traits(WeightFormat f) {
  for (const WeightFormatTraits& t : kTable) {
    if (t.format == f) return t;
  }
  throw std::invalid_argument("weight_format_traits: a format outside the table");
}

void quantize(WeightFormat f, const float* x, std::int64_t n, std::uint8_t* out) {
  const WeightFormatTraits& t = weight_format_traits(f);
  t.quantize(x, n / t.block_elements, out);
}

void dequantize(WeightFormat f, const std::uint8_t* in, std::int64_t n, float* out) {
  const WeightFormatTraits& t = weight_format_traits(f);
  t.dequantize(in, n / t.block_elements, out);
}

std::int64_t first_non_finite_scale(WeightFormat f, std::span<const std::uint8_t> stored) {
  const WeightFormatTraits& t = weight_format_traits(f);
  if (t.scale_at[0] < 0) return -1;
  const auto blocks = static_cast<std::int64_t>(stored.size()) / t.block_bytes;
  for (std::int64_t b = 0; b < blocks; ++b) {
    for (const std::int16_t at : t.scale_at) {
      if (at >= 0 && !std::isfinite(half_at(stored.data() + b * t.block_bytes + at))) return b;
    }
  }
  return -1;
}

const char* activation_rounding_name(ActivationRounding r) {
  switch (r) {
    case ActivationRounding::none:
      return "fp32";
    case ActivationRounding::bf16:
      return "bf16";
    case ActivationRounding::int8_blocks:
      return "int8";
  }
  return "?";
}

void round_to_bf16(const float* x, std::int64_t n, float* out) {
  for (std::int64_t i = 0; i < n; ++i) out[i] = bf16_to_float(float_to_bf16(x[i]));
}

void round_to_int8_blocks(const float* x, std::int64_t n, float* out) {
  for (std::int64_t b = 0; b < n; b += 32) {
    float amax = 0;
    bool nan = false;
    for (std::int64_t k = b; k < b + 32; ++k) {
      amax = std::max(amax, std::abs(x[k]));
      nan = nan || std::isnan(x[k]);
    }
    if (nan) amax = std::numeric_limits<float>::quiet_NaN();
    const float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
    for (std::int64_t k = b; k < b + 32; ++k) out[k] = d * std::nearbyint(x[k] * id);
  }
}

double int8_activation_rounding() {
  const double u = 0x1p-24;
  return (1 + u) * (0.5 + 255 * u) / 127;
}

std::vector<std::uint8_t> quantize_rows(WeightFormat f, std::span<const float> x, std::int64_t rows,
                                        std::int64_t K) {
  const std::int64_t stride = row_bytes(f, K);
  if (static_cast<std::int64_t>(x.size()) != rows * K)
    throw std::invalid_argument(
        fmt::format("quantize_rows: {} floats, expected {} x {}", x.size(), rows, K));
  std::vector<std::uint8_t> out(static_cast<std::size_t>(rows * stride));
  for (std::int64_t r = 0; r < rows; ++r) quantize(f, x.data() + r * K, K, out.data() + r * stride);
  return out;
}

std::vector<float> dequantize_rows(WeightFormat f, std::span<const std::uint8_t> stored,
                                   std::int64_t rows, std::int64_t K) {
  const std::int64_t stride = row_bytes(f, K);
  if (static_cast<std::int64_t>(stored.size()) != rows * stride)
    throw std::invalid_argument(fmt::format("dequantize_rows: {} bytes, expected {} rows of {}",
                                            stored.size(), rows, stride));
  std::vector<float> out(static_cast<std::size_t>(rows * K));
  for (std::int64_t r = 0; r < rows; ++r)
    dequantize(f, stored.data() + r * stride, K, out.data() + r * K);
  return out;
}

std::vector<float> stored_as_floats(std::span<const std::uint8_t> stored) {
  std::vector<float> padded((stored.size() + 3) / 4, 0.0f);
  if (!stored.empty()) std::memcpy(padded.data(), stored.data(), stored.size());
  return padded;
}

double block_error_bound(WeightFormat f, std::span<const float> block) {
  return weight_format_traits(f).error_bound(block);
}

}  // namespace aigc
