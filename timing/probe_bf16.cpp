// The probe's bf16 dot-product loop (vdpbf16ps, AVX512-BF16), compiled for that instruction
// alone and run only where has_bf16_dot() holds: the compute ceiling of the bf16 GEMMs
// (kernels/simd/gemm_bf16.cpp), which need not be the fp32 FMA's (twice it on a Zen 5 core,
// under half on an Emerald Rapids one).
#include <immintrin.h>

#include "timing/probe_kernels.hpp"

namespace aigc::probe {
namespace {

// Independent chains: enough to cover the instruction's latency on both of its ports.
constexpr int kBf16Chains = 16;

}  // namespace

__attribute__((target("avx512f,avx512bw,avx512bf16"))) float bf16_dot_chains(
    std::size_t iterations) {
  __m512 acc[kBf16Chains];
  for (int c = 0; c < kBf16Chains; ++c) acc[c] = _mm512_set1_ps(0.01f * c);
  // Small products, so 2 x 10^7 rounds of 32 stay finite (and are not subnormal).
  const __m512bh a = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1e-3f), _mm512_set1_ps(1e-3f));
  const __m512bh b = _mm512_cvtne2ps_pbh(_mm512_set1_ps(0.5f), _mm512_set1_ps(0.5f));
  for (std::size_t i = 0; i < iterations; ++i) {
    for (int c = 0; c < kBf16Chains; ++c) acc[c] = _mm512_dpbf16_ps(acc[c], a, b);
  }
  __m512 sum = acc[0];
  for (int c = 1; c < kBf16Chains; ++c) sum = _mm512_add_ps(sum, acc[c]);
  // Lanes summed from memory: GCC 12 warns inside _mm512_reduce_add_ps's own shuffles.
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, sum);
  float total = 0;
  for (const float v : lanes) total += v;
  return total;
}

// Each instruction: 16 lanes x 2 products, each a multiply and an add.
double flops_per_iteration_bf16() { return 4.0 * 16 * kBf16Chains; }

}  // namespace aigc::probe
