#pragma once
// The probe's measuring loops. The SIMD ones are Highway code dispatched like the
// simd backend, so the peaks are those of the target the kernels actually use.
#include <cstddef>

namespace aigc::probe {

// Runs `iterations` rounds of independent fused multiply-adds on full vectors and
// returns a value derived from them (so nothing is optimized away).
// flops_per_iteration_simd() says how many FLOPs one round is.
float fma_chains_simd(std::size_t iterations);
double flops_per_iteration_simd();

// The same with AVX512-BF16's dot product (bf16 pairs into fp32 lanes); only where
// simd::has_bf16_dot() holds. flops_per_iteration_bf16() counts 2 per product.
float bf16_dot_chains(std::size_t iterations);
double flops_per_iteration_bf16();

// The same with AVX512-VNNI's int8 dot product (vpdpbusd: unsigned by signed bytes, four
// products summed into each int32 lane); only where simd::int8_dot_dispatched() holds.
// ops_per_iteration_int8() counts 2 per product, as FLOPs count a multiply-add.
float int8_dot_chains(std::size_t iterations);
double ops_per_iteration_int8();

// The same on scalar floats, compiled like the scalar backend (no vectorization, no
// FMA contraction): the ceiling of the scalar reference's hardware.
float fma_chains_scalar(std::size_t iterations);
double flops_per_iteration_scalar();

// STREAM triad a[i] = b[i] + s * c[i] over [begin, end).
void triad_simd(float* a, const float* b, const float* c, float s, std::size_t begin,
                std::size_t end);

// A read-only stream: the sum of b over [begin, end), with several accumulators so the
// adds keep up with the loads. Weights streaming through a decode step look like this.
float read_sum_simd(const float* b, std::size_t begin, std::size_t end);

}  // namespace aigc::probe
