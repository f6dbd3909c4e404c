// The probe's int8 dot-product loop (vpdpbusd, AVX512-VNNI), compiled for that instruction
// alone and run only where simd::int8_dot_dispatched() holds: the compute ceiling of the block
// formats' products on int8 activations (kernels/simd/gemv_int8.cpp, gemm_int8.cpp), which
// multiply-add 64 byte pairs per instruction where the fp32 FMA does 16 (held to the FMA's
// rate, their prefill rows read up to 195% of the roofline on a Zen 4 VM).
#include <immintrin.h>

#include <cstdint>

#include "timing/probe_kernels.hpp"

namespace aigc::probe {
namespace {

// Independent chains: enough to cover the instruction's latency on its ports.
constexpr int kInt8Chains = 16;

}  // namespace

__attribute__((target("avx512f,avx512bw,avx512vnni"))) float int8_dot_chains(
    std::size_t iterations) {
  __m512i acc[kInt8Chains];
  for (int c = 0; c < kInt8Chains; ++c) acc[c] = _mm512_set1_epi32(c);
  // 4 products of 3 x 1 per lane and instruction: 2 x 10^7 rounds add 2.4 x 10^8, inside int32.
  const __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(1);
  for (std::size_t i = 0; i < iterations; ++i) {
    for (int c = 0; c < kInt8Chains; ++c) acc[c] = _mm512_dpbusd_epi32(acc[c], a, b);
  }
  __m512i sum = acc[0];
  for (int c = 1; c < kInt8Chains; ++c) sum = _mm512_add_epi32(sum, acc[c]);
  alignas(64) std::int32_t lanes[16];
  _mm512_store_si512(lanes, sum);
  std::int64_t total = 0;
  for (const std::int32_t v : lanes) total += v;
  return static_cast<float>(total);
}

// Each instruction: 16 lanes x 4 byte products, each a multiply and an add.
double ops_per_iteration_int8() { return 2.0 * 64 * kInt8Chains; }

}  // namespace aigc::probe
