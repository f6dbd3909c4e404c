#pragma once
// One block of 32 activations quantized to int8 as core's round_to_int8_blocks rounds it
// (d = amax / 127, p = round-to-even(x * (1 / d))), in AVX-512 vectors: the step gemv_int8 and
// gemm_int8 share, so a decode and a prefill round alike. A NaN in the block makes d NaN (max
// drops NaN; it must reach the outputs through the scale).
#include <immintrin.h>

#include <limits>

#include "core/weight_format_layout.hpp"

// GCC 12 takes the _mm512_undefined_*() pass-through operands of AVX-512 intrinsics
// (reduce_max_ps, cvtps_epi32, cvtepi32_ps) for uninitialized reads once they are inlined into the
// loops of the files that include this one (gemv_int8.cpp, gemm_int8.cpp): a false alarm.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#define AIGC_INT8_TARGET \
  __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni")))

namespace aigc::simd {

// The int8 formats whose weights add a min after scaling (w = d q + m), which gemv_int8 and
// gemm_int8 sum apart from the scaled quants: the legacy q4_1 and q5_1, and q4_k and q5_k.
constexpr bool adds_min(WeightFormat f) {
  return has_block_min(f) || f == WeightFormat::q4_k || f == WeightFormat::q5_k;
}

struct Int8Block {
  __m512i p0, p1;  // elements 0-15 and 16-31, in int32 lanes, within [-127, 127]
  float d;
};

AIGC_INT8_TARGET inline Int8Block quantize_int8_block(const float* x) {
  const __m512 v0 = _mm512_loadu_ps(x), v1 = _mm512_loadu_ps(x + 16);
  float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
  if ((_mm512_cmp_ps_mask(v0, v0, _CMP_UNORD_Q) | _mm512_cmp_ps_mask(v1, v1, _CMP_UNORD_Q)) != 0)
    amax = std::numeric_limits<float>::quiet_NaN();
  const float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
  // Round to nearest even (MXCSR's default); |x id| <= 127 (1 + 2u) rounds into [-127, 127].
  return {_mm512_cvtps_epi32(_mm512_mul_ps(v0, _mm512_set1_ps(id))),
          _mm512_cvtps_epi32(_mm512_mul_ps(v1, _mm512_set1_ps(id))), d};
}

}  // namespace aigc::simd
