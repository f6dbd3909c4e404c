#pragma once
// The emulation's stand-in for the toolkit's cuda_fp16.h: binary16 storage and its exact
// widening (the stored-weight matmul reads f16 scales and weights).
#include <cstdint>

#include "core/float16.hpp"

struct __half {
  std::uint16_t bits;
};

inline __half __ushort_as_half(unsigned short bits) { return {static_cast<std::uint16_t>(bits)}; }
inline float __half2float(__half h) { return aigc::half_to_float(h.bits); }
