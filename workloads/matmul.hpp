#pragma once
// The matmul workload: C[M,N] = A[M,K] * B[K,N] (+ bias[N]), fp32, row-major; with tb=1
// B is stored transposed [N,K], as the decoder's tied output embedding is.
#include <span>

#include "workloads/workload.hpp"

namespace aigc {

// Serial-model unit: one panel of this many rows of C.
inline constexpr std::int64_t kMatmulPanelRows = 16;

MatmulShape parse_matmul_shape(const std::string& text);
// FLOPs and minimum traffic of an fp32 matmul of this shape (B's format ignored).
WorkCounts matmul_counts(const MatmulShape& s);
std::string format_matmul_shape(const MatmulShape& s);

// A K-term fp32 dot product (plus a bias) in any summation order, FMA or not, has
// |error| <= gamma_{K+1} * sum|terms| with gamma_n = n*u / (1 - n*u) (Higham, ch. 3);
// errors are measured relative to sum|terms|, so this is the bound. Operands rounded first
// (bf16: r = 2^-8 each) add (1+r)^2 - 1 = 2r + r^2 to every product's relative error.
double matmul_tolerance(std::int64_t K, double operand_rounding = 0.0);

// Maximum relative error of C over `rows` (all rows when empty) against a float64
// recomputation, each element relative to sum_k |a_ik b_kj| + |bias_j|.
double matmul_max_rel_error(const MatmulShape& s, std::span<const float> a,
                            std::span<const float> b, std::span<const float> bias,
                            std::span<const float> c, std::span<const std::int64_t> rows = {});

// The block formats' decode on int8 activations (OperandRounding::activations int8_blocks): A's
// element in a block of 32 with largest magnitude amax is rounded to d p, within
// core/weight_format's int8_activation_rounding() of amax, and the fp32 scaling and
// accumulation of the exact integer block sums round within gamma(K + 20); both relative to
// sum_k amax(k's block) (|d q_k| + |m|) (1 + r), B's weight being d q_k + m (kernels/simd/
// gemv_int8.cpp derives it). The bound also holds for fp32 activations, whose error is within
// gamma(K + 2) of sum_k |a_k| |w_k|, not above this sum.
double int8_matmul_tolerance(std::int64_t K);
// Each weight's |d q| + |m| (B [N, K] stored in block format f, `w` its dequantized values):
// its scaled quant and the min its format adds (q4_1, q5_1, q2_k, q4_k, q5_k), which the int8
// kernels sum apart.
std::vector<double> int8_product_magnitudes(WeightFormat f, std::span<const std::uint8_t> stored,
                                            std::span<const float> w, std::int64_t N,
                                            std::int64_t K);
// Maximum error of C = A B^T (+ bias) with B stored in block format `f` (bytes `stored`, rows
// of row_bytes(f, K)), each element relative to |bias_j| + sum_k amax(k's block of A's row)
// (|d q_k| + |m|).
double int8_matmul_max_error(const MatmulShape& s, WeightFormat f, std::span<const float> a,
                             std::span<const std::uint8_t> stored, std::span<const float> bias,
                             std::span<const float> c);

class MatmulWorkload final : public Workload {
 public:
  std::string name() const override { return "matmul"; }
  std::vector<std::string> preset_shapes(Preset preset) const override;
  Shape parse(const std::string& text) const override;
  WorkCounts counts(const Shape& shape) const override;
  std::vector<Op> ops(const Shape&) const override { return {Op::matmul}; }
  Shape unit_shape(const Shape& shape) const override;
  std::unique_ptr<WorkloadCase> make_case(Backend& backend, const Shape& shape) const override;
  // A MatmulShape as a Shape (its canonical text beside it).
  static Shape shape_of(const MatmulShape& s);
};

}  // namespace aigc
