#pragma once
// The formats a KV cache stores its keys and values in (llama.cpp's -ctk/-ctv): f32, f16, and
// q8_0 (GGUF's blocks of 32 along each head's row, an f16 scale each). A cache is [Hkv, capacity]
// rows of one head's D elements, each row kv_row_bytes(format, D) bytes; a new token's row is
// rounded into the format once, when it is written, and every later read sees the same values.
#include <cstdint>
#include <string>

#include "core/weight_format.hpp"

namespace aigc {

inline constexpr WeightFormat kKvFormats[] = {WeightFormat::f32, WeightFormat::f16,
                                              WeightFormat::q8_0};
bool is_kv_format(WeightFormat f);
std::string kv_format_names();  // "f32, f16, q8_0"
// Throws InvalidArgument naming `argument` for a name that is not a KV format.
WeightFormat parse_kv_format(const std::string& text, const std::string& argument);

// Bytes of one cached row of D elements; throws InvalidArgument naming `argument` when D is
// not a whole number of the format's blocks.
std::int64_t kv_row_bytes(WeightFormat f, std::int64_t D, const std::string& argument = "kv");
// Bytes of a cache of `rows` rows of D elements, rounded up to whole floats (every backend's
// buffers move floats).
std::int64_t kv_cache_bytes(WeightFormat f, std::int64_t rows, std::int64_t D);

// One row of D elements into the format, and back.
void store_kv_row(WeightFormat f, const float* x, std::int64_t D, std::uint8_t* row);
void load_kv_row(WeightFormat f, const std::uint8_t* row, std::int64_t D, float* x);

// The rounding bound of a cached element relative to its block's largest magnitude (0 for f32,
// 2^-11 for f16, int8's with an f16 scale for q8_0): what the decoder's tolerance adds for keys
// and values that round to a neighbouring step on one side of a comparison and not the other.
double kv_rounding(WeightFormat f);

}  // namespace aigc
