#pragma once
// Single-threaded packed GEMM (BLIS-style: packing, cache blocking, a register-
// blocked micro-kernel), written once with Highway and dispatched at run time to
// the best SIMD target of the CPU. The openmp backend runs it on sub-matrices.
#include <cstdint>
#include <string>
#include <vector>

#include "core/weight_format.hpp"

namespace aigc::simd {

// C[m,n] = A[m,k] * B[k,n] (+ bias[n]) on row-major views with leading dimensions,
// so that a caller can hand out tiles of a larger matrix. With transpose_b, b points to
// B^T [n, k] (row j of it is column j of B) with row stride ldb.
struct GemmView {
  std::int64_t m = 0, n = 0, k = 0;
  const float* a = nullptr;
  std::int64_t lda = 0;
  const float* b = nullptr;
  std::int64_t ldb = 0;
  bool transpose_b = false;
  const float* bias = nullptr;  // null for none
  float* c = nullptr;
  std::int64_t ldc = 0;
  // B stored in another format (core/weight_format): b_stored holds B^T [n, k], row j at
  // j * ldb_bytes, and b is unused. transpose_b must be set.
  WeightFormat b_format = WeightFormat::f32;
  const std::uint8_t* b_stored = nullptr;
  std::int64_t ldb_bytes = 0;
  // A already holds the values a block format's arithmetic rounds it to (the openmp backend
  // rounds a prefill's A once for all its tiles); gemm() then uses it as it is.
  bool a_rounded = false;
};

// A few rows of A (a decode step) go through a matrix-vector path that streams B once,
// in place: packing B would triple the memory traffic of what is a bandwidth-bound op.
inline constexpr std::int64_t kGemvMaxRows = 4;
// Up to this many rows (a batched decode step), fp32 B^T is not packed either: each weight is
// read once and used by every row from L1 (gemm.cpp's GemmSmallMTransposed).
inline constexpr std::int64_t kSmallMMaxRows = 64;

void gemm(const GemmView& view);
// The matrix-vector path of a stored B (m <= kGemvMaxRows, b_format not f32): each block
// widened to fp32 in registers (kernels/simd/gemv_stored.cpp). gemm() calls it.
void gemv_stored(const GemmView& view);
// Whether the dispatched Highway target is AVX-512 (a pinned narrower one keeps the kernels
// written with AVX-512 intrinsics, gemv_int8 and gemm_bf16, out).
bool avx512_dispatched();
// dequantize() of n weights (a whole number of blocks) in SIMD, bit for bit the same.
void dequantize_row(WeightFormat f, const std::uint8_t* stored, std::int64_t n, float* out);

// The register block of the dispatched target: C tiles are MR x NR.
struct RegisterBlock {
  std::int64_t mr = 0, nr = 0;
};
RegisterBlock gemm_register_block();

// Highway's name for the target the dispatcher picks now ("AVX3", "AVX2", ...).
std::string dispatched_target();
// Targets this CPU supports and this build compiled, best first (only the pinned one while
// force_target() pins one).
std::vector<std::string> available_targets();
// The best of them, whatever is pinned: what names the machine.
std::string best_target();
// Pin dispatch to one target by name, to compare SIMD widths on one machine;
// throws InvalidArgument naming `simd-target` with the valid names. "" restores the best.
void force_target(const std::string& name);

}  // namespace aigc::simd
