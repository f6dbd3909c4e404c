#pragma once
// Small helpers shared by the .cu files.
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

namespace aigc::cuda {

__host__ __device__ constexpr std::int64_t min64(std::int64_t a, std::int64_t b) {
  return a < b ? a : b;
}

inline std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

// Grid dimensions y and z stop at 65535: a shape past that is refused with its numbers
// rather than launched wrong.
inline unsigned grid_dim(std::int64_t blocks, const char* what, bool x_axis = false) {
  const std::int64_t limit = x_axis ? std::numeric_limits<int>::max() : 65535;
  if (blocks < 1 || blocks > limit) {
    throw std::invalid_argument(std::string(what) + ": " + std::to_string(blocks) +
                                " blocks are outside a CUDA grid's 1.." + std::to_string(limit));
  }
  return static_cast<unsigned>(blocks);
}

// 16-byte alignment of a device pointer, for float4 loads.
__host__ __device__ inline bool aligned16(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; }

}  // namespace aigc::cuda
