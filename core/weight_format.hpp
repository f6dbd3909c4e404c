#pragma once
// Weight formats: how a matrix of weights is stored, in GGUF's exact layouts, and the
// conversions to and from fp32. A row of K weights is stored contiguously (the [out, in]
// layout of torch's Linear and of GGUF), so a block of a quantized format runs along K:
//   f32   4 bytes per weight
//   f16   IEEE binary16 (2 bytes), bf16 the upper half of a float (2 bytes)
//   q8_0  blocks of 32: f16 scale d, 32 int8 q                 x = d * q           (34 bytes)
//   q4_0  blocks of 32: f16 d, 16 bytes of nibbles             x = d * (q - 8)     (18 bytes)
//   q4_1  blocks of 32: f16 d, f16 min m, 16 bytes of nibbles  x = d * q + m       (20 bytes)
//   q5_0  blocks of 32: f16 d, 32 fifth bits, nibbles          x = d * (q - 16)    (22 bytes)
//   q5_1  blocks of 32: f16 d, f16 m, 32 fifth bits, nibbles   x = d * q + m       (24 bytes)
// where element j < 16 of a 4-bit block is the low nibble of byte j and element j + 16 its
// high one (q5_*: bit j of the fifth bits above it). The K-quants take super-blocks of 256 in
// sub-blocks of 16 or 32 whose scales (and mins) are quantized against f16 super-scales:
//   q2_k  16 x 16: 4-bit scale and min, 2-bit q    x = d sc q - dmin m            (84 bytes)
//   q3_k  16 x 16: 6-bit signed scale, 3-bit q     x = d sc (q - 4)              (110 bytes)
//   q4_k   8 x 32: 6-bit scale and min, 4-bit q    x = d sc q - dmin m           (144 bytes)
//   q5_k   8 x 32: 6-bit scale and min, 5-bit q    x = d sc q - dmin m           (176 bytes)
//   q6_k  16 x 16: int8 scale, 6-bit q             x = d sc (q - 32)             (210 bytes)
// in GGUF's byte layouts (weight_format.cpp). Quantization follows ggml's reference code as the
// `gguf` PyPI package (gguf.quants) writes it, bit for bit, and so does every dequantization
// (tests/test_weight_format.cpp checks both on its output). gguf.quants has no K-quant
// quantizer: ours is direct (each sub-block's scale rounded up to cover its range, no search as
// ggml's make_qkx2_quants does), so a K-quant round trip is held to its derived bound instead.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/weight_format_layout.hpp"

namespace aigc {

// How a backend's matmul rounds its activations (A) for a weight format, so that a reference can
// round them the same way: not at all (fp32), each element to the nearest bfloat16 (bf16
// weights: a bf16 x bf16 product, as oneDNN, cuBLASLt and llama.cpp compute it), or per block
// of 32 to int8 (the block formats, round_to_int8_blocks below).
enum class ActivationRounding { none, bf16, int8_blocks };

// One row of the format table (ggml's type_traits): everything the suite knows of a format in one
// place. The help texts, `aigcbench list`, the schema, the op-case sweeps and the conversions
// below all read it; adding a format is its row, its kernels and its fixture case.
struct WeightFormatTraits {
  WeightFormat format;
  const char* name;                          // the dtype column's and the options' spelling
  const char* description;                   // for help texts and docs
  std::int64_t block_elements, block_bytes;  // as core/weight_format_layout.hpp (checked)
  std::int64_t quants_offset;                // where a block's quants start (0: no block)
  // `blocks` blocks (block_elements weights each) to the format and back, bit-exact with
  // gguf.quants.
  void (*quantize)(const float* x, std::int64_t blocks, std::uint8_t* out);
  void (*dequantize)(const std::uint8_t* in, std::int64_t blocks, float* out);
  // The largest |x - dequantize(quantize(x))| over one block, derived from the rounding.
  double (*error_bound)(std::span<const float> block);
  // How the activations are rounded where a backend computes on the format in reduced
  // precision (bf16 x bf16 products, int8 dot products); a backend says whether it does.
  ActivationRounding reduced_activations;
  // Where a block's f16 scales lie (its scale, and its min where it has one; -1: none), which a
  // file's reader checks are finite (first_non_finite_scale).
  std::int16_t scale_at[2];
};
// Every format, f32 first, in the order listings and sweeps show them.
std::span<const WeightFormatTraits> weight_format_table();
const WeightFormatTraits& weight_format_traits(WeightFormat f);

// "f32", "f16", "bf16", "q8_0", "q4_0", "q4_1": the dtype column's and the options' spelling.
const char* weight_format_name(WeightFormat f);
// The format named by `text`, if any.
std::optional<WeightFormat> find_weight_format(const std::string& text);
// The format named by `text`; throws InvalidArgument naming `argument` with the valid names.
WeightFormat parse_weight_format(const std::string& text, const std::string& argument);
// "f32, f16, bf16, q8_0, q4_0, q4_1", for messages.
std::string weight_format_names();

// is_block_format, block_elements, block_bytes: core/weight_format_layout.hpp.
inline double bytes_per_weight(WeightFormat f) {
  return double(block_bytes(f)) / double(block_elements(f));
}
// Bytes of a row of K weights. A block format takes only whole blocks (GGUF does not pad):
// throws InvalidArgument naming `argument` when K is not a multiple of 32.
std::int64_t row_bytes(WeightFormat f, std::int64_t K, const std::string& argument = "K");
// Whether K weights make whole blocks of the format.
inline bool row_fits(WeightFormat f, std::int64_t K) { return K % block_elements(f) == 0; }

// The nearest binary16 / bfloat16 to a float, ties to even (numpy's astype(float16), ggml's
// fp32_to_bf16: NaN stays a quiet NaN, overflow goes to infinity).
std::uint16_t float_to_half(float x);
std::uint16_t float_to_bf16(float x);

// The first block of `stored` (whole blocks of f) whose f16 scale or min is NaN or infinite, which
// would make every weight of the block NaN; -1 when there is none (and for the float formats).
std::int64_t first_non_finite_scale(WeightFormat f, std::span<const std::uint8_t> stored);

// n weights (a whole number of blocks) to the format / back to fp32.
void quantize(WeightFormat f, const float* x, std::int64_t n, std::uint8_t* out);
void dequantize(WeightFormat f, const std::uint8_t* in, std::int64_t n, float* out);

const char* activation_rounding_name(ActivationRounding r);  // "fp32", "bf16", "int8"

// Each element to the nearest bfloat16 (float_to_bf16), widened back: exactly bf16 values.
void round_to_bf16(const float* x, std::int64_t n, float* out);

// Activations rounded as the block formats' int8 arithmetic rounds them (kernels/simd/
// gemv_int8.hpp): per block of 32, d = amax / 127 and id = 1 / d in fp32, p = x * id rounded
// to nearest even (into [-127, 127]), x' = d * p. n a multiple of 32; NaN stays NaN.
void round_to_int8_blocks(const float* x, std::int64_t n, float* out);
// Its error bound relative to amax: |x - d p| <= (1 + u)(1/2 + 255 u) / 127 amax (the reciprocal
// and the product each round once, |x / d| <= 127 (1 + u), and d <= amax / 127 (1 + u)).
double int8_activation_rounding();

// A [rows, K] matrix stored in the format (row r at r * row_bytes(f, K)).
std::vector<std::uint8_t> quantize_rows(WeightFormat f, std::span<const float> x, std::int64_t rows,
                                        std::int64_t K);
std::vector<float> dequantize_rows(WeightFormat f, std::span<const std::uint8_t> stored,
                                   std::int64_t rows, std::int64_t K);

// Stored bytes in a float vector, zero-padded to whole floats: how a backend's float upload
// (Backend::upload_weights) and the op cases' float inputs carry them.
std::vector<float> stored_as_floats(std::span<const std::uint8_t> stored);

// The largest |x - dequantize(quantize(x))| over one block of `block` (block_elements(f)
// weights), derived in weight_format.cpp from the format's rounding: a test's bound, and what
// docs/weight-formats.md quotes per format.
double block_error_bound(WeightFormat f, std::span<const float> block);

}  // namespace aigc
