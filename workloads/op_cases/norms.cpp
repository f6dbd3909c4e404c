// The normalizations: GPT-2's layernorm and Llama's rmsnorm, over the last dimension.
#include <cmath>

#include "core/random.hpp"
#include "core/verify.hpp"
#include "workloads/op_cases/cases.hpp"

namespace aigc {
namespace {

constexpr std::int64_t kMaxRows = 1 << 16, kMaxDim = 1 << 16;

std::vector<OpVars> norm_test_shapes() {
  return {{{"rows", 1}, {"dim", 1}},
          {{"rows", 3}, {"dim", 7}},
          {{"rows", 17}, {"dim", 64}},
          {{"rows", 5}, {"dim", 768}},
          {{"rows", 64}, {"dim", 1000}}};
}
// A decode step's row and a 128-token prefill, at GPT-2 124M's and SmolLM2-135M's widths.
std::vector<OpVars> norm_bench_shapes() {
  return {{{"rows", 1}, {"dim", 768}},
          {{"rows", 128}, {"dim", 768}},
          {{"rows", 1}, {"dim", 576}},
          {{"rows", 128}, {"dim", 576}}};
}

// What both norms share: rows x dim, and their shapes.
class NormCase : public OpCase {
 public:
  std::vector<ShapeKey> vars() const override {
    return {{"rows", 1, kMaxRows}, {"dim", 1, kMaxDim}};
  }
  std::vector<OpVars> test_shapes() const override { return norm_test_shapes(); }
  std::vector<OpVars> bench_shapes() const override { return norm_bench_shapes(); }
  std::vector<std::int64_t> output_floats(const OpVars& v) const override {
    return {v.at("rows") * v.at("dim")};
  }
};

class LayernormCase final : public NormCase {
 public:
  std::string name() const override { return "layernorm"; }
  std::optional<Op> op() const override { return Op::layernorm; }
  WorkCounts counts(const OpVars& v) const override {
    const OpWork w = work_of(LayernormShape{v.at("rows"), v.at("dim")});
    return {.flops = w.flops, .bytes = w.bytes, .n_units = 1};
  }
  std::vector<std::vector<float>> inputs(const OpVars& v) const override {
    const std::int64_t rows = v.at("rows"), dim = v.at("dim");
    // Offset inputs (mean ~0.5, as real activations have) and non-trivial gain and bias.
    return {random_uniform(rows * dim, 21, -0.5f, 1.5f), random_uniform(dim, 22, 0.5f, 2.0f),
            random_uniform(dim, 23)};
  }
  OpRun prepare(Backend& backend, const OpVars& v) const override {
    auto kernel = std::shared_ptr<LayernormKernel>(
        backend.make_kernel(LayernormShape{v.at("rows"), v.at("dim")}));
    return [kernel](const std::vector<Buffer>& in, std::vector<Buffer>& out) {
      kernel->run(in[0], in[1], in[2], out[0]);
    };
  }
  // |dy_j| <= 2 gamma_(C+8) scale_j, scale_j = |g_j| rstd (mean|x| + |x_j - mean|
  // (1 + mean^2/var)) + |b_j|: the mean carries gamma_C mean|x|, the variance a relative
  // gamma_(C+3) (times 1 + mean^2/var for a one-pass E[x^2] - mean^2, which a library may use),
  // rstd half that plus a few u.
  OpCheck check(const OpVars& v, const std::vector<std::vector<float>>& in,
                const std::vector<std::vector<float>>& out, const OperandRounding&) const override {
    const std::int64_t rows = v.at("rows"), dim = v.at("dim");
    const auto &x = in[0], &g = in[1], &b = in[2];
    MaxRelativeError err;
    for (std::int64_t r = 0; r < rows; ++r) {
      const float* xr = x.data() + r * dim;
      double mean = 0, mean_abs = 0, var = 0;
      for (std::int64_t c = 0; c < dim; ++c) mean += xr[c], mean_abs += std::abs(xr[c]);
      mean /= double(dim), mean_abs /= double(dim);
      for (std::int64_t c = 0; c < dim; ++c) var += (xr[c] - mean) * (xr[c] - mean);
      var /= double(dim);
      const double rstd = 1 / std::sqrt(var + 1e-5);
      const double cancel = 1 + mean * mean / (var + 1e-5);
      for (std::int64_t c = 0; c < dim; ++c) {
        const double dev = xr[c] - mean;
        const double scale =
            std::abs(g[c]) * rstd * (mean_abs + std::abs(dev) * cancel) + std::abs(b[c]);
        err.add(out[0][r * dim + c], dev * rstd * g[c] + b[c], scale);
      }
    }
    return {err.value(), 2 * fp32_gamma(double(dim) + 8)};
  }
};

class RmsnormCase final : public NormCase {
 public:
  std::string name() const override { return "rmsnorm"; }
  std::optional<Op> op() const override { return Op::rmsnorm; }
  WorkCounts counts(const OpVars& v) const override {
    const OpWork w = work_of(RmsnormShape{v.at("rows"), v.at("dim")});
    return {.flops = w.flops, .bytes = w.bytes, .n_units = 1};
  }
  std::vector<std::vector<float>> inputs(const OpVars& v) const override {
    return {random_uniform(v.at("rows") * v.at("dim"), 24, -1.0f, 1.5f),
            random_uniform(v.at("dim"), 25, 0.5f, 2.0f)};
  }
  OpRun prepare(Backend& backend, const OpVars& v) const override {
    auto kernel = std::shared_ptr<RmsnormKernel>(
        backend.make_kernel(RmsnormShape{v.at("rows"), v.at("dim")}));
    return [kernel](const std::vector<Buffer>& in, std::vector<Buffer>& out) {
      kernel->run(in[0], in[1], out[0]);
    };
  }
  // The sum of squares has only positive terms: relative error gamma_C. Dividing, adding eps,
  // the square root (which halves it), the reciprocal and two products add a few u each:
  // |dy_j| <= (gamma_C / 2 + 6u) |x_j| rstd |g_j| <= gamma_(C+12) |y_j|.
  OpCheck check(const OpVars& v, const std::vector<std::vector<float>>& in,
                const std::vector<std::vector<float>>& out, const OperandRounding&) const override {
    const std::int64_t rows = v.at("rows"), dim = v.at("dim");
    const auto &x = in[0], &g = in[1];
    MaxRelativeError err;
    for (std::int64_t r = 0; r < rows; ++r) {
      const float* xr = x.data() + r * dim;
      double sq = 0;
      for (std::int64_t c = 0; c < dim; ++c) sq += double(xr[c]) * xr[c];
      const double rstd = 1 / std::sqrt(sq / double(dim) + 1e-5);
      for (std::int64_t c = 0; c < dim; ++c) {
        const double ref = xr[c] * rstd * g[c];
        err.add(out[0][r * dim + c], ref, std::abs(ref));
      }
    }
    return {err.value(), fp32_gamma(double(dim) + 12)};
  }
};

}  // namespace

const OpCase& layernorm_case() {
  static const LayernormCase c;
  return c;
}

const OpCase& rmsnorm_case() {
  static const RmsnormCase c;
  return c;
}

}  // namespace aigc
