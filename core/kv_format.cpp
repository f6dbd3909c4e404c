#include "core/kv_format.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "core/errors.hpp"

namespace aigc {

bool is_kv_format(WeightFormat f) {
  return std::find(std::begin(kKvFormats), std::end(kKvFormats), f) != std::end(kKvFormats);
}

std::string kv_format_names() {
  std::string names;
  for (const WeightFormat f : kKvFormats)
    names += (names.empty() ? "" : ", ") + std::string(weight_format_name(f));
  return names;
}

WeightFormat parse_kv_format(const std::string& text, const std::string& argument) {
  for (const WeightFormat f : kKvFormats) {
    if (text == weight_format_name(f)) return f;
  }
  throw InvalidArgument(
      argument, fmt::format("'{}' is not a KV cache format (valid: {})", text, kv_format_names()));
}

std::int64_t kv_row_bytes(WeightFormat f, std::int64_t D, const std::string& argument) {
  if (!is_kv_format(f)) {
    throw InvalidArgument(argument, fmt::format("{} is not a KV cache format (valid: {})",
                                                weight_format_name(f), kv_format_names()));
  }
  return row_bytes(f, D, argument);
}

std::int64_t kv_cache_bytes(WeightFormat f, std::int64_t rows, std::int64_t D) {
  const std::int64_t bytes = rows * kv_row_bytes(f, D);
  return (bytes + 3) / 4 * 4;
}

void store_kv_row(WeightFormat f, const float* x, std::int64_t D, std::uint8_t* row) {
  if (f == WeightFormat::f32) {
    std::memcpy(row, x, static_cast<std::size_t>(D) * sizeof(float));
  } else {
    quantize(f, x, D, row);
  }
}

void load_kv_row(WeightFormat f, const std::uint8_t* row, std::int64_t D, float* x) {
  if (f == WeightFormat::f32) {
    std::memcpy(x, row, static_cast<std::size_t>(D) * sizeof(float));
  } else {
    dequantize(f, row, D, x);
  }
}

double kv_rounding(WeightFormat f) {
  switch (f) {
    case WeightFormat::f16:
      return 0x1p-11;
    case WeightFormat::q8_0:  // d = amax / 127 rounded to f16: at most 2^-11 larger
      return int8_activation_rounding() * (1 + 0x1p-11);
    default:
      return 0;
  }
}

}  // namespace aigc
