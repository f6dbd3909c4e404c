// Matmul and attention as op cases: the sweep runs them with guard regions and every SIMD
// target; their own workloads (workloads/matmul, workloads/attention) keep the large shapes.

#include <algorithm>

#include <fmt/format.h>

#include "core/errors.hpp"
#include "core/random.hpp"
#include "workloads/attention.hpp"
#include "workloads/matmul.hpp"
#include "workloads/op_cases/cases.hpp"

namespace aigc {
namespace {

// B in a stored format: op "matmul_<format>", B always [N, K] (the format's layout, so no tb).
MatmulShape matmul_of(const OpVars& v, WeightFormat f = WeightFormat::f32) {
  if (f != WeightFormat::f32) return {v.at("M"), v.at("N"), v.at("K"), v.at("bias") == 1, true, f};
  return {v.at("M"), v.at("N"), v.at("K"), v.at("bias") == 1, v.at("tb") == 1};
}

// The fp32 matmul ("matmul") and one case per stored weight format ("matmul_q4_1", ...), whose
// B input carries the weights as quantize_rows() stores them (bytes in a float vector, as the
// backend's upload takes them); the reference multiplies by the same weights dequantized, so
// the bound is the fp32 one: the kernels see exactly those weights (core/weight_format).
class MatmulCase final : public OpCase {
 public:
  explicit MatmulCase(WeightFormat format) : format_(format) {}
  std::string name() const override {
    return stored() ? fmt::format("matmul_{}", weight_format_name(format_)) : "matmul";
  }
  std::optional<Op> op() const override { return Op::matmul; }
  WeightFormat weight_format() const override { return format_; }
  std::optional<std::pair<const OpCase*, OpVars>> with_weight_format(
      const OpVars& v, WeightFormat f) const override {
    OpVars twin{{"M", v.at("M")}, {"N", v.at("N")}, {"K", v.at("K")}, {"bias", v.at("bias")}};
    if (f == WeightFormat::f32) twin["tb"] = stored() ? 1 : v.at("tb");
    if (f != WeightFormat::f32 && !stored() && v.at("tb") != 1) return std::nullopt;
    return std::make_pair(&matmul_case(f), twin);
  }
  std::vector<ShapeKey> vars() const override {
    // N up to a vocabulary (the logits' matmul: 50257 for GPT-2, 49152 for SmolLM2).
    if (stored())
      return {{"M", 1, 4096}, {"N", 1, 1 << 18}, {"K", 1, 1 << 16}, {"bias", 0, 1, false, 0}};
    return {{"M", 1, 4096},
            {"N", 1, 1 << 18},
            {"K", 1, 1 << 16},
            {"bias", 0, 1, false, 0},
            {"tb", 0, 1, false, 0}};
  }
  // Edges of the blocked kernels: 1x1x1, odd sizes, a matrix-vector product (M <= 4), both
  // layouts of B, with and without bias. Stored formats: one block, N not a multiple of the
  // kernels' four rows, K across the packed GEMM's 768-weight K block, a batch's few rows
  // (5..64) across the unpacked bf16 kernel's 1536-weight K block, odd K where the format
  // allows it (f16, bf16).
  std::vector<OpVars> test_shapes() const override {
    if (stored()) {
      // K in blocks of 32 (a K-quant's super-blocks of 256), plus one where the format allows.
      const std::int64_t odd = is_block_format(format_) ? 0 : 1;
      const std::int64_t blk = std::max<std::int64_t>(32, block_elements(format_));
      return {{{"M", 1}, {"N", 1}, {"K", blk + odd}, {"bias", 0}},
              {{"M", 3}, {"N", 70}, {"K", std::max<std::int64_t>(128, blk) + odd}, {"bias", 1}},
              {{"M", 1}, {"N", 9}, {"K", 25 * blk + odd}, {"bias", 1}},
              {{"M", 17}, {"N", 33}, {"K", 3 * blk + odd}, {"bias", 1}},
              {{"M", 40}, {"N", 9}, {"K", 25 * blk + odd}, {"bias", 0}},
              {{"M", 9}, {"N", 13}, {"K", 50 * blk + odd}, {"bias", 1}}};
    }
    return {{{"M", 1}, {"N", 1}, {"K", 1}, {"bias", 0}, {"tb", 0}},
            {{"M", 17}, {"N", 33}, {"K", 65}, {"bias", 1}, {"tb", 0}},
            {{"M", 3}, {"N", 70}, {"K", 129}, {"bias", 1}, {"tb", 1}},
            {{"M", 40}, {"N", 9}, {"K", 300}, {"bias", 0}, {"tb", 1}}};
  }
  // GPT-2 124M's QKV projection for one decode step and for a 128-token prefill.
  std::vector<OpVars> bench_shapes() const override {
    if (stored()) {
      return {{{"M", 1}, {"N", 2304}, {"K", 768}, {"bias", 1}},
              {{"M", 128}, {"N", 2304}, {"K", 768}, {"bias", 1}}};
    }
    return {{{"M", 1}, {"N", 2304}, {"K", 768}, {"bias", 1}, {"tb", 0}},
            {{"M", 128}, {"N", 2304}, {"K", 768}, {"bias", 1}, {"tb", 0}}};
  }
  WorkCounts counts(const OpVars& v) const override {
    // The matmul workload's counts (its units, its memory), with the op's bytes: B as stored,
    // what a decode step streams.
    const MatmulShape s = matmul_of(v, format_);
    MatmulShape fp32 = s;
    fp32.b_format = WeightFormat::f32;
    WorkCounts w = matmul_counts(fp32);
    w.bytes = work_of(s).bytes;
    return w;
  }
  std::vector<std::vector<float>> inputs(const OpVars& v) const override {
    const MatmulShape s = matmul_of(v, format_);
    std::vector<float> b = random_uniform(s.K * s.N, 2);
    if (stored()) b = stored_as_floats(quantize_rows(format_, b, s.N, s.K));
    return {random_uniform(s.M * s.K, 1), std::move(b), random_uniform(s.bias ? s.N : 1, 3)};
  }
  std::vector<std::int64_t> output_floats(const OpVars& v) const override {
    return {v.at("M") * v.at("N")};
  }
  void check_vars(const OpVars& v) const override {
    if (stored() && !row_fits(format_, v.at("K"))) {
      throw InvalidArgument("shapes", fmt::format("{}: K = {} is not a multiple of {} (valid: "
                                                  "whole blocks of the format)",
                                                  name(), v.at("K"), block_elements(format_)));
    }
  }
  OpRun prepare(Backend& backend, const OpVars& v) const override {
    const MatmulShape s = matmul_of(v, format_);
    auto kernel = std::shared_ptr<MatmulKernel>(backend.make_kernel(s));
    return [kernel, bias = s.bias](const std::vector<Buffer>& in, std::vector<Buffer>& out) {
      kernel->run(in[0], in[1], bias ? &in[2] : nullptr, out[0]);
    };
  }
  OpCheck check(const OpVars& v, const std::vector<std::vector<float>>& in,
                const std::vector<std::vector<float>>& out,
                const OperandRounding& rounding) const override {
    const double operand_rounding = rounding.relative;
    MatmulShape s = matmul_of(v, format_);
    if (!stored()) {
      return {matmul_max_rel_error(s, in[0], in[1], in[2], out[0]),
              matmul_tolerance(s.K, operand_rounding)};
    }
    // The reference on the weights the kernel was given, dequantized; a block format's kernel
    // may sum each block before scaling it, one more rounding per product (K + 1 terms).
    const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(in[1].data()),
                                              static_cast<std::size_t>(s.b_bytes()));
    if (rounding.activations == ActivationRounding::int8_blocks && is_block_format(format_)) {
      return {int8_matmul_max_error(s, format_, in[0], bytes, in[2], out[0]),
              int8_matmul_tolerance(s.K)};
    }
    const std::vector<float> b = dequantize_rows(format_, bytes, s.N, s.K);
    s.b_format = WeightFormat::f32;
    return {matmul_max_rel_error(s, in[0], b, in[2], out[0]),
            matmul_tolerance(s.K + (is_block_format(format_) ? 1 : 0), operand_rounding)};
  }

 private:
  bool stored() const { return format_ != WeightFormat::f32; }
  WeightFormat format_;
};

AttentionShape attention_of(const OpVars& v) {
  return {.B = v.at("B"),
          .H = v.at("H"),
          .S = v.at("S"),
          .L = v.at("L"),
          .D = v.at("D"),
          .kv_heads = v.at("KV")};
}

// Causal attention; S == L is a prefill, S == 1 a decode step against L cached keys. KV is the
// number of key/value heads: H for multi-head attention, fewer for grouped-query attention.
class AttentionCase final : public OpCase {
 public:
  std::string name() const override { return "attention"; }
  std::optional<Op> op() const override { return Op::attention; }
  std::vector<ShapeKey> vars() const override {
    return {{"B", 1, 64},   {"H", 1, 128},  {"KV", 1, 128},
            {"S", 1, 4096}, {"L", 1, 4096}, {"D", 1, 256}};
  }
  // S = L = 1; S past a 64-row tile with an odd D; a decode step past a tile of keys; several
  // heads and batches with D = 80; grouped-query attention (SmolLM2's 9 query heads on 3 KV
  // heads, and 4 on 1) in a prefill, a decode step and with batches.
  std::vector<OpVars> test_shapes() const override {
    return {{{"B", 1}, {"H", 1}, {"KV", 1}, {"S", 1}, {"L", 1}, {"D", 1}},
            {{"B", 1}, {"H", 2}, {"KV", 2}, {"S", 65}, {"L", 65}, {"D", 13}},
            {{"B", 1}, {"H", 3}, {"KV", 3}, {"S", 1}, {"L", 130}, {"D", 64}},
            {{"B", 2}, {"H", 3}, {"KV", 3}, {"S", 17}, {"L", 17}, {"D", 80}},
            {{"B", 1}, {"H", 9}, {"KV", 3}, {"S", 19}, {"L", 19}, {"D", 64}},
            {{"B", 1}, {"H", 9}, {"KV", 3}, {"S", 1}, {"L", 70}, {"D", 64}},
            {{"B", 2}, {"H", 4}, {"KV", 1}, {"S", 5}, {"L", 9}, {"D", 16}}};
  }
  // GPT-2 124M and SmolLM2-135M: a 128-token prefill and a decode step against 1024 cached keys.
  std::vector<OpVars> bench_shapes() const override {
    return {{{"B", 1}, {"H", 12}, {"KV", 12}, {"S", 1}, {"L", 1024}, {"D", 64}},
            {{"B", 1}, {"H", 12}, {"KV", 12}, {"S", 128}, {"L", 128}, {"D", 64}},
            {{"B", 1}, {"H", 9}, {"KV", 3}, {"S", 1}, {"L", 1024}, {"D", 64}},
            {{"B", 1}, {"H", 9}, {"KV", 3}, {"S", 128}, {"L", 128}, {"D", 64}}};
  }
  WorkCounts counts(const OpVars& v) const override {
    const AttentionShape s = attention_of(v);
    const OpWork w = work_of(s);
    return {.flops = w.flops, .bytes = w.bytes, .n_units = s.B * s.H};
  }
  std::vector<std::vector<float>> inputs(const OpVars& v) const override {
    const AttentionShape s = attention_of(v);
    const std::int64_t bh = s.B * s.H, bkv = s.B * s.kv_head_count();
    return {random_uniform(bh * s.S * s.D, 21), random_uniform(bkv * s.L * s.D, 22),
            random_uniform(bkv * s.L * s.D, 23)};
  }
  std::vector<std::int64_t> output_floats(const OpVars& v) const override {
    return {v.at("B") * v.at("H") * v.at("S") * v.at("D")};
  }
  OpRun prepare(Backend& backend, const OpVars& v) const override {
    if (v.at("S") > v.at("L"))
      throw InvalidArgument("shapes", "attention: S queries must not exceed L keys");
    if (v.at("KV") > v.at("H") || v.at("H") % v.at("KV") != 0)
      throw InvalidArgument("shapes", "attention: H must be a multiple of KV (no more than H)");
    auto kernel = std::shared_ptr<AttentionKernel>(backend.make_kernel(attention_of(v)));
    return [kernel](const std::vector<Buffer>& in, std::vector<Buffer>& out) {
      kernel->run(in[0], in[1], in[2], out[0]);
    };
  }
  OpCheck check(const OpVars& v, const std::vector<std::vector<float>>& in,
                const std::vector<std::vector<float>>& out, const OperandRounding&) const override {
    const AttentionError e = attention_error(attention_of(v), in[0], in[1], in[2], out[0]);
    return {e.max_rel_error, e.tolerance};
  }
};

}  // namespace

const OpCase& matmul_case(WeightFormat format) {
  // One case per row of the format table.
  static const std::vector<MatmulCase> cases = [] {
    std::vector<MatmulCase> all;
    for (const WeightFormatTraits& t : weight_format_table()) all.emplace_back(t.format);
    return all;
  }();
  for (const MatmulCase& c : cases) {
    if (c.weight_format() == format) return c;
  }
  return cases[0];
}

const OpCase& attention_case() {
  static const AttentionCase c;
  return c;
}

}  // namespace aigc
