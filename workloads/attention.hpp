#pragma once
// The attention workload: causal multi-head scaled-dot-product attention, fp32.
// Shapes: "B=1,H=12,S=1024,D=64" (full causal, phase prefill) or "B=1,H=12,L=1024,D=64"
// (one decode step: a single query against a KV cache of L entries, phase decode).
#include <span>

#include "workloads/workload.hpp"

namespace aigc {

AttentionShape parse_attention_shape(const std::string& text);
std::string format_attention_shape(const AttentionShape& s);

// One query row (b, h, i) checked against a float64 recomputation.
struct AttentionRow {
  std::int64_t bh = 0, i = 0;
};

// The maximum over `rows` (all rows when empty) of |o - o_ref| / sum_j p_j |v_jd|, and the
// tolerance those rows justify: a score s_j carries an error up to gamma_D * sigma_j, with
// sigma_j = sum_d |q_d k_jd| / sqrt(D), which exp turns into a relative error of the
// weight; the softmax sum and the weighted sum of V add gamma_(L+1) each, and exp itself
// a few units of roundoff. So tol = 2 gamma_D max sigma + 2 gamma_(L+1) + 16 u.
struct AttentionError {
  double max_rel_error = 0;
  double tolerance = 0;
};
AttentionError attention_error(const AttentionShape& s, std::span<const float> q,
                               std::span<const float> k, std::span<const float> v,
                               std::span<const float> o, std::span<const AttentionRow> rows = {});

class AttentionWorkload final : public Workload {
 public:
  std::string name() const override { return "attention"; }
  std::vector<std::string> preset_shapes(Preset preset) const override;
  Shape parse(const std::string& text) const override;
  std::string phase(const Shape& shape) const override;
  WorkCounts counts(const Shape& shape) const override;
  std::vector<Op> ops(const Shape&) const override { return {Op::attention}; }
  Shape unit_shape(const Shape& shape) const override;
  // An AttentionShape as a Shape (its canonical text beside it).
  static Shape shape_of(const AttentionShape& s);
  std::unique_ptr<WorkloadCase> make_case(Backend& backend, const Shape& shape) const override;
};

}  // namespace aigc
