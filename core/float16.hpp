#pragma once
// The 16-bit float formats checkpoints store, widened to float exactly: IEEE binary16 (F16,
// every value, subnormals, infinities and NaN) and bfloat16 (the upper half of a float).
#include <bit>
#include <cstdint>
#include <cstring>

namespace aigc {

inline float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = (h & 0x8000u) << 16, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  std::uint32_t bits;
  if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | (mantissa << 13);  // inf, NaN
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign;
  } else {  // subnormal: normalize
    int e = -1;
    std::uint32_t m = mantissa;
    do {
      ++e;
      m <<= 1;
    } while ((m & 0x400) == 0);
    bits = sign | ((112 - e) << 23) | ((m & 0x3ff) << 13);
  }
  return std::bit_cast<float>(bits);
}

inline float bf16_to_float(std::uint16_t b) { return std::bit_cast<float>(std::uint32_t(b) << 16); }

// The 16 bits stored at p, at any alignment (GGUF blocks put their f16 scales at odd offsets).
inline std::uint16_t load_u16(const std::uint8_t* p) {
  std::uint16_t h;
  std::memcpy(&h, p, 2);
  return h;
}
// The binary16 stored at p, widened.
inline float half_at(const std::uint8_t* p) { return half_to_float(load_u16(p)); }

}  // namespace aigc
