// The elementwise ops: the residual add, GPT-2's tanh-form GELU and SwiGLU's gate silu(a) * b.
#include <cmath>

#include "core/random.hpp"
#include "core/verify.hpp"
#include "workloads/op_cases/cases.hpp"

namespace aigc {
namespace {

constexpr std::int64_t kMaxFloats = std::int64_t{1} << 30;

// 1, a partial vector, one vector, and more than one thread's share (openmp splits above
// 16 Ki floats per thread).
std::vector<OpVars> elementwise_test_shapes() {
  return {{{"n", 1}}, {{"n", 15}}, {{"n", 16}}, {{"n", 1000}}, {{"n", 100003}}};
}
// A decode step's 768 and 3072 (GPT-2 124M's MLP) and a 128-token prefill's 128 x 3072.
std::vector<OpVars> elementwise_bench_shapes() {
  return {{{"n", 768}}, {{"n", 3072}}, {{"n", 128 * 3072}}};
}

class ElementwiseCase final : public OpCase {
 public:
  explicit ElementwiseCase(ElementwiseOp op) : op_(op) {}
  std::string name() const override {
    switch (op_) {
      case ElementwiseOp::add:
        return "add";
      case ElementwiseOp::gelu_tanh:
        return "gelu_tanh";
      case ElementwiseOp::silu_mul:
        return "silu_mul";
      case ElementwiseOp::gelu_tanh_mul:
        return "gelu_tanh_mul";
    }
    return "?";
  }
  std::optional<Op> op() const override { return Op::elementwise; }
  std::vector<ShapeKey> vars() const override { return {{"n", 1, kMaxFloats}}; }
  std::vector<OpVars> test_shapes() const override { return elementwise_test_shapes(); }
  std::vector<OpVars> bench_shapes() const override { return elementwise_bench_shapes(); }
  WorkCounts counts(const OpVars& v) const override {
    const OpWork w = work_of(ElementwiseShape{op_, v.at("n")});
    return {.flops = w.flops, .bytes = w.bytes, .n_units = 1};
  }
  std::vector<std::vector<float>> inputs(const OpVars& v) const override {
    const std::int64_t n = v.at("n");
    if (op_ == ElementwiseOp::add) return {random_uniform(n, 41), random_uniform(n, 42)};
    if (op_ == ElementwiseOp::silu_mul)
      return {random_uniform(n, 43, -8.0f, 8.0f), random_uniform(n, 44)};
    if (op_ == ElementwiseOp::gelu_tanh_mul)
      return {random_uniform(n, 45, -6.0f, 6.0f), random_uniform(n, 46)};
    return {random_uniform(n, 31, -6.0f, 6.0f)};  // both tails and the bend
  }
  std::vector<std::int64_t> output_floats(const OpVars& v) const override { return {v.at("n")}; }
  OpRun prepare(Backend& backend, const OpVars& v) const override {
    auto kernel =
        std::shared_ptr<ElementwiseKernel>(backend.make_kernel(ElementwiseShape{op_, v.at("n")}));
    return
        [kernel, binary = is_binary(op_)](const std::vector<Buffer>& in, std::vector<Buffer>& out) {
          kernel->run(in[0], binary ? &in[1] : nullptr, out[0]);
        };
  }
  // add: one rounding of |a| + |b|. GELU: the cubic and the tanh argument carry a few u of
  // |a| (1 + |z|), the tanh (a library's, not correctly rounded) and the products a few more.
  // silu_mul: every step is relative (the exp's few ulp shrink by e / (1 + e) < 1 in the
  // sigmoid, then a sum, a quotient and a product), so 16 u of |ref| covers a library's exp.
  OpCheck check(const OpVars& v, const std::vector<std::vector<float>>& in,
                const std::vector<std::vector<float>>& out, const OperandRounding&) const override {
    MaxRelativeError err;
    const std::int64_t n = v.at("n");
    for (std::int64_t i = 0; i < n; ++i) {
      const double a = in[0][i];
      if (op_ == ElementwiseOp::add) {
        const double b = in[1][i];
        err.add(out[0][i], a + b, std::abs(a) + std::abs(b));
      } else if (op_ == ElementwiseOp::silu_mul) {
        const double ref = a / (1 + std::exp(-a)) * in[1][i];
        err.add(out[0][i], ref, std::abs(ref));
      } else {
        // GELU's bound; times b (one more rounding) for GeGLU's product.
        const double z = std::sqrt(2 / M_PI) * (a + 0.044715 * a * a * a);
        const double gelu = 0.5 * a * (1 + std::tanh(z));
        const bool times_b = op_ == ElementwiseOp::gelu_tanh_mul;
        const double b = times_b ? in[1][i] : 1.0;
        const double scale = std::abs(a) * (1 + std::abs(z)) + (times_b ? 2 : 1) * std::abs(gelu);
        err.add(out[0][i], gelu * b, scale * std::abs(b));
      }
    }
    return {err.value(), (op_ == ElementwiseOp::add ? 1 : 16) * kFp32UnitRoundoff};
  }

 private:
  ElementwiseOp op_;
};

}  // namespace

const OpCase& add_case() {
  static const ElementwiseCase c(ElementwiseOp::add);
  return c;
}

const OpCase& silu_mul_case() {
  static const ElementwiseCase c(ElementwiseOp::silu_mul);
  return c;
}

const OpCase& gelu_tanh_mul_case() {
  static const ElementwiseCase c(ElementwiseOp::gelu_tanh_mul);
  return c;
}

const OpCase& gelu_tanh_case() {
  static const ElementwiseCase c(ElementwiseOp::gelu_tanh);
  return c;
}

}  // namespace aigc
