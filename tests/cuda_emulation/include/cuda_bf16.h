#pragma once
// The emulation's stand-in for the toolkit's cuda_bf16.h: bfloat16 storage and the
// round-to-nearest-even conversion the bf16 matmul uses (NaN stays NaN).
#include <cstdint>
#include <cstring>

struct __nv_bfloat16 {
  std::uint16_t bits;
};

inline __nv_bfloat16 __float2bfloat16_rn(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return {static_cast<std::uint16_t>((u >> 16) | 0x40u)};
  u += 0x7fffu + ((u >> 16) & 1u);  // round half to even on the 16 bits dropped
  return {static_cast<std::uint16_t>(u >> 16)};
}

inline float __bfloat162float(__nv_bfloat16 b) {
  const std::uint32_t u = std::uint32_t{b.bits} << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline __nv_bfloat16 __ushort_as_bfloat16(unsigned short bits) {
  return {static_cast<std::uint16_t>(bits)};
}
