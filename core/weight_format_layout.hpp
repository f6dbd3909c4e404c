#pragma once
// The weight formats and their block layouts (core/weight_format.hpp describes them), in C++17
// and callable from device code, so that the CUDA kernels (nvcc, C++17) share these numbers
// with the host instead of repeating them.
#include <cstdint>

#ifdef __CUDACC__
#define AIGC_HOST_DEVICE __host__ __device__
#else
#define AIGC_HOST_DEVICE
#endif

namespace aigc {

enum class WeightFormat {
  f32,
  f16,
  bf16,
  q8_0,
  q4_0,
  q4_1,
  q5_0,
  q5_1,
  q2_k,
  q3_k,
  q4_k,
  q5_k,
  q6_k
};
inline constexpr WeightFormat kAllWeightFormats[] = {
    WeightFormat::f32,  WeightFormat::f16,  WeightFormat::bf16, WeightFormat::q8_0,
    WeightFormat::q4_0, WeightFormat::q4_1, WeightFormat::q5_0, WeightFormat::q5_1,
    WeightFormat::q2_k, WeightFormat::q3_k, WeightFormat::q4_k, WeightFormat::q5_k,
    WeightFormat::q6_k};

// The K-quants: super-blocks of 256 weights in sub-blocks of 16 or 32, each sub-block's scale
// (and min) quantized against the super-block's f16 scales.
AIGC_HOST_DEVICE constexpr bool is_k_quant(WeightFormat f) {
  return f == WeightFormat::q2_k || f == WeightFormat::q3_k || f == WeightFormat::q4_k ||
         f == WeightFormat::q5_k || f == WeightFormat::q6_k;
}
// The quantized formats: a row of K weights is a whole number of blocks.
AIGC_HOST_DEVICE constexpr bool is_block_format(WeightFormat f) {
  return f != WeightFormat::f32 && f != WeightFormat::f16 && f != WeightFormat::bf16;
}
// Weights per block (1 for the float formats, 32 for the legacy block formats, 256 for the
// K-quants) and bytes per block: GGUF's layouts.
AIGC_HOST_DEVICE constexpr std::int64_t block_elements(WeightFormat f) {
  return is_k_quant(f) ? 256 : is_block_format(f) ? 32 : 1;
}
AIGC_HOST_DEVICE constexpr std::int64_t block_bytes(WeightFormat f) {
  switch (f) {
    case WeightFormat::f32:
      return 4;
    case WeightFormat::f16:
    case WeightFormat::bf16:
      return 2;
    case WeightFormat::q8_0:
      return 2 + 32;  // d, 32 int8
    case WeightFormat::q4_0:
      return 2 + 16;  // d, 32 nibbles
    case WeightFormat::q4_1:
      return 2 + 2 + 16;  // d, m, 32 nibbles
    case WeightFormat::q5_0:
      return 2 + 4 + 16;  // d, the 32 fifth bits, 32 nibbles
    case WeightFormat::q5_1:
      return 2 + 2 + 4 + 16;  // d, m, fifth bits, nibbles
    case WeightFormat::q2_k:
      return 16 + 64 + 2 + 2;  // 16 scale|min nibble pairs, 256 2-bit quants, d, dmin
    case WeightFormat::q3_k:
      return 32 + 64 + 12 + 2;  // the third bits, 2-bit quants, 16 6-bit scales, d
    case WeightFormat::q4_k:
      return 2 + 2 + 12 + 128;  // d, dmin, 8 6-bit scales and mins, 256 nibbles
    case WeightFormat::q5_k:
      return 2 + 2 + 12 + 32 + 128;  // d, dmin, scales and mins, fifth bits, nibbles
    case WeightFormat::q6_k:
      return 128 + 64 + 16 + 2;  // low nibbles, high 2 bits, 16 int8 scales, d
  }
  return 0;
}
// Where a legacy block's quants (the nibbles or int8s) start: after the scale, q4_1's and
// q5_1's min, q5_*'s fifth bits. The K-quants lay out their parts differently (above).
AIGC_HOST_DEVICE constexpr std::int64_t block_quants_offset(WeightFormat f) {
  switch (f) {
    case WeightFormat::q4_1:
      return 4;
    case WeightFormat::q5_0:
      return 6;
    case WeightFormat::q5_1:
      return 8;
    default:
      return is_block_format(f) && !is_k_quant(f) ? 2 : 0;
  }
}

// The legacy block formats with an f16 min after their scale (x = d q + m).
AIGC_HOST_DEVICE constexpr bool has_block_min(WeightFormat f) {
  return f == WeightFormat::q4_1 || f == WeightFormat::q5_1;
}

// The K-quants' packed sub-block scales, decoded the same way on the host and on a device:
// q3_k's scale i (0..15) from its 12 bytes at `s`: 6 bits, the low 4 in bytes 0..7 (nibble i / 8
// of byte i % 8), the high 2 in bytes 8..11 (pair i / 4 of byte 8 + i % 4), stored plus 32.
AIGC_HOST_DEVICE constexpr int q3_k_scale(const std::uint8_t* s, int i) {
  const int low = (s[i % 8] >> (4 * (i / 8))) & 0x0f;
  const int high = (s[8 + i % 4] >> (2 * (i / 4))) & 3;
  return (low | high << 4) - 32;
}
// q4_k's and q5_k's sub-block `sub` (0..7): its 6-bit scale and min from the 12 bytes at `s`
// (gguf.quants' get_scale_min).
AIGC_HOST_DEVICE constexpr void k_quant_scale_min(const std::uint8_t* s, int sub, int& scale,
                                                  int& min) {
  if (sub < 4) {
    scale = s[sub] & 63;
    min = s[sub + 4] & 63;
  } else {
    scale = (s[sub + 4] & 0x0f) | ((s[sub - 4] >> 6) << 4);
    min = (s[sub + 4] >> 4) | ((s[sub] >> 6) << 4);
  }
}

}  // namespace aigc
