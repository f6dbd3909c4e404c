#pragma once
// The block formats' GEMM (a prefill's C = A B^T) on int8 dot products, AVX512-VNNI's vpdpbusd:
// the same arithmetic as gemv_int8 (A quantized per block of 32 to int8 with an fp32 scale,
// each block's products summed exactly in int32, then scaled and accumulated in fp32), so a
// model's prefill and its decode steps round and compute alike, and one float64 reference
// models both. B is unpacked once per call into panels of 16 columns of int8 quants laid out
// as vpdpbusd reads them.
//
// Error (derived in gemm_int8.cpp, checked by the op cases): that of gemv_int8.hpp.
#include "kernels/simd/gemm.hpp"

namespace aigc::simd {

// C = A B^T (+ bias) for B in one of gemv_int8.hpp's int8_activation_formats() (view.transpose_b,
// b_stored);
// has_int8_dot() must hold. A may be rounded already (view.a_rounded): re-quantizing a rounded
// block gives back its int8 values.
void gemm_int8(const GemmView& view);

}  // namespace aigc::simd
