#pragma once
// The block formats' matrix-vector product on int8 dot-product instructions (AVX512-VNNI's
// vpdpbusd), the arithmetic llama.cpp uses for its q8_0/q4_0/q4_1 decode: A's row is quantized
// per block of 32 to int8 with an fp32 scale (GGUF's q8_0 of the activations, scale kept in
// fp32), each block's dot product is summed exactly in int32, then scaled and accumulated in
// fp32. Highway 1.0 has no int8 dot product, hence intrinsics, on the CPUs that have them.
//
// Error (derived in gemv_int8.cpp, checked by the op cases): within
// int8_activation_rounding() + gamma(K + 20) of sum_k amax(A's block of k) * (|d q_k| + |m|),
// d, q, m being B's block scale, integer and min. core/backend.hpp's int8_activations.
#include <vector>

#include "kernels/simd/gemm.hpp"

namespace aigc::simd {

// Whether this CPU runs gemv_int8 (AVX512-F/BW/VL and VNNI).
bool has_int8_dot();

// Whether gemm() takes gemv_int8 for a block format's few rows: has_int8_dot() and the
// dispatched Highway target is AVX-512 (a pinned narrower one keeps the fp32 products).
bool int8_dot_dispatched();

// The formats whose activations simd and openmp round to int8 on every path (the descriptors'
// int8_activations): the block formats, on every CPU (gemm() rounds them where gemv_int8 does
// not run).
std::vector<WeightFormat> int8_activation_formats();
// Whether f is one of them (q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q5_k, q6_k): gemm() rounds A to
// int8 blocks of 32 for these on every path. q2_k and q3_k multiply fp32 activations so far.
bool is_int8_activation_format(WeightFormat f);

// Rows of A [rows, k] (row stride lda) rounded as core's round_to_int8_blocks rounds them,
// into out [rows, k]: in AVX-512 vectors where the CPU has them (the same values).
void round_rows_to_int8_blocks(const float* a, std::int64_t rows, std::int64_t k, std::int64_t lda,
                               float* out);

// C = A B^T (+ bias) for B in one of those formats and m <= kGemvMaxRows; has_int8_dot() must
// hold.
void gemv_int8(const GemmView& view);

}  // namespace aigc::simd
