#include "timing/probe_kernels.hpp"

namespace aigc::probe {

// Twelve independent chains hide the add latency (4 cycles) on two ports.
constexpr int kChains = 12;

float fma_chains_scalar(std::size_t iterations) {
  float acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = 1.0f + 0.01f * c;
  const float m = 0.999999f, a = 1e-6f;
  for (std::size_t i = 0; i < iterations; ++i) {
    for (int c = 0; c < kChains; ++c) acc[c] = acc[c] * m + a;
  }
  float sum = 0;
  for (float x : acc) sum += x;
  return sum;
}

double flops_per_iteration_scalar() { return 2.0 * kChains; }

}  // namespace aigc::probe
