// Rotary position embedding, in place on Q and K heads inside a fused QKV row.
#include <cmath>

#include "core/random.hpp"
#include "core/verify.hpp"
#include "workloads/op_cases/cases.hpp"

namespace aigc {
namespace {

constexpr std::int64_t kMax = 1 << 16;

RopeShape rope_of(const OpVars& v) {
  return {.tokens = v.at("tokens"),
          .heads = v.at("heads"),
          .head_dim = v.at("head_dim"),
          .row_heads = v.at("row_heads"),
          .pos0 = v.at("pos0"),
          .base = static_cast<float>(v.at("base"))};
}

class RopeCase final : public OpCase {
 public:
  std::string name() const override { return "rope"; }
  std::optional<Op> op() const override { return Op::rope; }
  std::vector<ShapeKey> vars() const override {
    return {{"tokens", 1, kMax},   {"heads", 1, 1024}, {"row_heads", 1, 3072},
            {"head_dim", 2, 1024}, {"pos0", 0, kMax},  {"base", 2, 100000000}};
  }
  // One pair; odd token and head counts with the rest of the row left alone; SmolLM2's
  // 9 + 3 rotated heads of a 15-head QKV row, at positions past 1000.
  std::vector<OpVars> test_shapes() const override {
    return {{{"tokens", 1},
             {"heads", 1},
             {"row_heads", 1},
             {"head_dim", 2},
             {"pos0", 0},
             {"base", 10000}},
            {{"tokens", 7},
             {"heads", 3},
             {"row_heads", 5},
             {"head_dim", 6},
             {"pos0", 2},
             {"base", 10000}},
            {{"tokens", 5},
             {"heads", 12},
             {"row_heads", 15},
             {"head_dim", 64},
             {"pos0", 1021},
             {"base", 100000}}};
  }
  // SmolLM2-135M: a decode step late in the context and a 128-token prefill.
  std::vector<OpVars> bench_shapes() const override {
    return {{{"tokens", 1},
             {"heads", 12},
             {"row_heads", 15},
             {"head_dim", 64},
             {"pos0", 1023},
             {"base", 100000}},
            {{"tokens", 128},
             {"heads", 12},
             {"row_heads", 15},
             {"head_dim", 64},
             {"pos0", 0},
             {"base", 100000}}};
  }
  WorkCounts counts(const OpVars& v) const override {
    const RopeShape s = rope_of(v);
    // The op's, and the timed copy that restores the input (in place: every run must start
    // from the same row).
    const OpWork w = work_of(s);
    return {.flops = w.flops, .bytes = w.bytes + 8.0 * s.tokens * s.row_floats(), .n_units = 1};
  }
  std::vector<std::vector<float>> inputs(const OpVars& v) const override {
    return {random_uniform(v.at("tokens") * v.at("row_heads") * v.at("head_dim"), 61)};
  }
  // In place: the output buffer starts as the input (prepare copies it in each run).
  std::vector<std::int64_t> output_floats(const OpVars& v) const override {
    return {v.at("tokens") * v.at("row_heads") * v.at("head_dim")};
  }
  OpRun prepare(Backend& backend, const OpVars& v) const override {
    if (v.at("heads") > v.at("row_heads") || v.at("head_dim") % 2 != 0) {
      throw InvalidArgument("shapes",
                            "rope: heads must not exceed row_heads, and head_dim must be even");
    }
    const RopeShape s = rope_of(v);
    auto kernel = std::shared_ptr<RopeKernel>(backend.make_kernel(s));
    const std::size_t n = static_cast<std::size_t>(s.tokens * s.row_floats());
    return [kernel, &backend, n](const std::vector<Buffer>& in, std::vector<Buffer>& out) {
      backend.moves().copy(in[0], 0, out[0], 0, n);
      kernel->run(out[0]);
    };
  }
  // The angle (pos0 + t) base^(-2i/D) is computed in float: the power carries a few ulp and the
  // product one more, so the angle is off by up to ~5 u of itself (a position of 1000 puts it
  // off by ~3e-4 radians), and the turned pair by that times |x0| + |x1|; cos, sin and the
  // rotation add a few u more.
  OpCheck check(const OpVars& v, const std::vector<std::vector<float>>& in,
                const std::vector<std::vector<float>>& out, const OperandRounding&) const override {
    const RopeShape s = rope_of(v);
    MaxRelativeError err;
    const std::int64_t row = s.row_floats();
    for (std::int64_t t = 0; t < s.tokens; ++t) {
      for (std::int64_t c = 0; c < row; ++c) {
        const std::int64_t e = t * row + c, h = c / s.head_dim, i = (c % s.head_dim) / 2;
        if (h >= s.heads) {  // untouched
          err.add(out[0][e], in[0][e], std::abs(in[0][e]));
          if (out[0][e] != in[0][e]) err.add(out[0][e], in[0][e] + 1, 0);
          continue;
        }
        const std::int64_t pair = e - (c % 2);
        const double angle =
            double(s.pos0 + t) * std::pow(double(s.base), -2.0 * i / double(s.head_dim));
        const double x0 = in[0][pair], x1 = in[0][pair + 1];
        const double ref = c % 2 == 0 ? x0 * std::cos(angle) - x1 * std::sin(angle)
                                      : x0 * std::sin(angle) + x1 * std::cos(angle);
        err.add(out[0][e], ref, std::abs(x0) + std::abs(x1));
      }
    }
    return {err.value(), (6.0 * double(s.pos0 + s.tokens) + 16) * kFp32UnitRoundoff};
  }
};

}  // namespace

const OpCase& rope_case() {
  static const RopeCase c;
  return c;
}

}  // namespace aigc
