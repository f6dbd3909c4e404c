#pragma once
// The GEMM of bf16 weights on AVX512-BF16's dot product (vdpbf16ps), the arithmetic oneDNN,
// cuBLASLt and llama.cpp use for bf16: A rounded to bf16 (nearest even), each pair of bf16
// products (exact in fp32) added into fp32 accumulators. Twice the multiply-adds per
// instruction of the fp32 FMA, and half the bytes of packed panels. Highway 1.0 has no bf16
// dot product (its ReorderWidenMulAccumulate widens to fp32 first), hence intrinsics, on the
// CPUs that have them; elsewhere gemm() rounds A to the same bf16 values before the fp32
// kernels, so one arithmetic holds on every path (the descriptors' bf16_activations).
//
// Error: each of C's sums is an fp32 sum of K exact products of bf16 values, within gamma_K of
// sum_k |a'_k b_k| (a' = A rounded, |a - a'| <= 2^-8 |a|); the instruction treats subnormal
// inputs and results as zero, an absolute error below 2^-126 per step.
#include "kernels/simd/gemm.hpp"

namespace aigc::simd {

// Whether this CPU runs gemm_bf16 (AVX512-F/BW/VL and AVX512-BF16).
bool has_bf16_dot();

// Whether gemm() takes gemm_bf16 for bf16 weights: has_bf16_dot() and an AVX-512 Highway target.
bool bf16_dot_dispatched();

// C = A B^T (+ bias) for B stored in bf16 ([n, k], b_stored); has_bf16_dot() must hold. A is
// read in fp32 and rounded to bf16 as it is packed.
void gemm_bf16(const GemmView& view);

}  // namespace aigc::simd
