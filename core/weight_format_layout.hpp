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

enum class WeightFormat { f32, f16, bf16, q8_0, q4_0, q4_1 };
inline constexpr WeightFormat kAllWeightFormats[] = {WeightFormat::f32,  WeightFormat::f16,
                                                     WeightFormat::bf16, WeightFormat::q8_0,
                                                     WeightFormat::q4_0, WeightFormat::q4_1};

AIGC_HOST_DEVICE constexpr bool is_block_format(WeightFormat f) {
  return f == WeightFormat::q8_0 || f == WeightFormat::q4_0 || f == WeightFormat::q4_1;
}
// Weights per block (1 for the float formats, 32 for the block formats) and bytes per block:
// GGUF's layouts, an f16 scale (and q4_1's f16 min) before the 32 quants.
AIGC_HOST_DEVICE constexpr std::int64_t block_elements(WeightFormat f) {
  return is_block_format(f) ? 32 : 1;
}
AIGC_HOST_DEVICE constexpr std::int64_t block_bytes(WeightFormat f) {
  switch (f) {
    case WeightFormat::f32:
      return 4;
    case WeightFormat::f16:
    case WeightFormat::bf16:
      return 2;
    case WeightFormat::q8_0:
      return 2 + 32;
    case WeightFormat::q4_0:
      return 2 + 16;
    case WeightFormat::q4_1:
      return 2 + 2 + 16;
  }
  return 0;
}
// Where a block's quants start: after the scale, and q4_1's min.
AIGC_HOST_DEVICE constexpr std::int64_t block_quants_offset(WeightFormat f) {
  return f == WeightFormat::q4_1 ? 4 : 2;
}

}  // namespace aigc
