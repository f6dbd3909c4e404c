// Compiled with -ffp-contract=off (core/CMakeLists.txt): a fused multiply-add would round
// differently from ggml's and numpy's separate multiply and add, and break bit-exactness.
#include "core/weight_format.hpp"

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

WeightFormat parse_weight_format(const std::string& text, const std::string& argument) {
  for (const WeightFormat f : kAllWeightFormats) {
    if (text == weight_format_name(f)) return f;
  }
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

void quantize_q4_0(const float* x, std::uint8_t* out) {
  // The value of largest magnitude, with its sign (the first, on a tie), maps to -8.
  float amax = 0, max = 0;
  for (int j = 0; j < 32; ++j) {
    if (std::fabs(x[j]) > amax) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  const float d = max / -8.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  store16(out, float_to_half(d));
  std::uint8_t q[32];
  for (int j = 0; j < 32; ++j) {
    const float t = std::trunc(x[j] * id + 8.5f);
    q[j] = static_cast<std::uint8_t>(std::min(15.0f, t));
  }
  pack_nibbles(q, out + 2);
}

void quantize_q4_1(const float* x, std::uint8_t* out) {
  float max = x[0], min = x[0];
  for (int j = 1; j < 32; ++j) {
    max = std::max(max, x[j]);
    min = std::min(min, x[j]);
  }
  const float d = (max - min) / 15.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  store16(out, float_to_half(d));
  store16(out + 2, float_to_half(min));
  std::uint8_t q[32];
  for (int j = 0; j < 32; ++j) {
    const float t = std::trunc((x[j] - min) * id + 0.5f);
    q[j] = static_cast<std::uint8_t>(std::min(15.0f, t));
  }
  pack_nibbles(q, out + 4);
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
#define AIGC_FORMAT(fmt, description, E, B, quants_offset, rounding)                       \
  {                                                                                        \
    F::fmt, #fmt, description, E, B, quants_offset, quantize_blocks<quantize_##fmt, E, B>, \
        dequantize_blocks<dequantize_##fmt, E, B>, bound_##fmt, rounding                   \
  }

using F = WeightFormat;
using R = ActivationRounding;
// The one table of formats: adding one is its row here, its kernels, and its fixture case.
constexpr WeightFormatTraits kTable[] = {
    AIGC_FORMAT(f32, "fp32, 4 bytes a weight", 1, 4, 0, R::none),
    AIGC_FORMAT(f16, "IEEE binary16, 2 bytes a weight", 1, 2, 0, R::none),
    AIGC_FORMAT(bf16, "bfloat16 (a float's upper half), 2 bytes a weight", 1, 2, 0, R::bf16),
    AIGC_FORMAT(q8_0, "GGUF Q8_0: blocks of 32, an f16 scale, 32 int8 (8.5 bits a weight)", 32, 34,
                2, R::int8_blocks),
    AIGC_FORMAT(q4_0, "GGUF Q4_0: blocks of 32, an f16 scale, 32 nibbles less 8 (4.5 bits)", 32, 18,
                2, R::int8_blocks),
    AIGC_FORMAT(q4_1, "GGUF Q4_1: blocks of 32, f16 scale and min, 32 nibbles (5 bits)", 32, 20, 4,
                R::int8_blocks),
};
#undef AIGC_FORMAT

// The layout the CUDA kernels read (core/weight_format_layout.hpp) is the table's.
constexpr bool layouts_agree() {
  for (const WeightFormatTraits& t : kTable) {
    if (t.block_elements != block_elements(t.format) || t.block_bytes != block_bytes(t.format))
      return false;
    if (is_block_format(t.format) && t.quants_offset != block_quants_offset(t.format)) return false;
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
