// The one op-case sweep: every op case (workloads/op_cases/) on every backend that offers its
// op, at 1, 2 and 3 threads for the multithreaded ones, under every SIMD target the machine has,
// with NaN-poisoned outputs and guard floats after each output that must stay untouched.
// A backend that lacks the op is reported as skipped by its descriptor's answer; one that cannot
// run here (no GPU) is skipped with its reason. Adding an op means adding a case, not a test.
#include <algorithm>

#include <catch2/catch.hpp>

#include <fmt/format.h>

#include "core/verify.hpp"
#include "kernels/registry.hpp"
#include "kernels/simd/gemm.hpp"
#include "kernels/simd/gemv_int8.hpp"
#include "workloads/op_case.hpp"

using namespace aigc;

namespace {

// Runs every case's test shapes on one backend at one thread count; returns how many ran.
int sweep_backend(const BackendDescriptor& d, int threads, const std::string& target) {
  int ran = 0;
  for (const OpCase* c : op_cases()) {
    if (c->op() && !d.supports(*c->op(), d.default_dtype())) {
      WARN("skipped: " << d.lacks(*c->op(), d.default_dtype()));
      continue;
    }
    if (!d.takes(c->weight_format())) {
      WARN("skipped: " << d.lacks(c->weight_format()));
      continue;
    }
    for (const OpVars& vars : c->test_shapes()) {
      INFO(format_op_shape(*c, vars)
           << " on " << d.name << " threads=" << threads << " target=" << target);
      auto backend = d.make();
      backend->set_threads(threads);
      OpCaseRun run(*backend, *c, vars);
      const double error = run.verify();
      CHECK(error <= run.tolerance());
      CHECK(run.tolerance() >= 0);
      ++ran;
    }
  }
  return ran;
}

}  // namespace

TEST_CASE("every op case matches float64 on every backend, thread count and SIMD target") {
  int ran = 0;
  for (const BackendDescriptor* d : backend_descriptors()) {
    if (const Availability av = d->availability(); !av.available) {
      WARN("skipped: " << d->name << ": " << av.reason);
      continue;
    }
    const std::vector<int> thread_counts =
        d->is_multithreaded() ? std::vector<int>{1, 2, 3} : std::vector<int>{1};
    // Highway's targets matter only to the backends that dispatch through it.
    const bool highway = d->name == "simd" || d->name == "openmp";
    const std::vector<std::string> targets =
        highway ? simd::available_targets() : std::vector<std::string>{""};
    for (const std::string& target : targets) {
      simd::force_target(target);
      for (const int t : thread_counts) ran += sweep_backend(*d, t, target.empty() ? "-" : target);
    }
    simd::force_target("");
  }
  CHECK(ran > 0);
}

TEST_CASE("the guard regions catch a kernel that writes past its output") {
  // A case whose run writes one float beyond the output it was given.
  struct Overrun final : OpCase {
    std::string name() const override { return "overrun"; }
    std::optional<Op> op() const override { return std::nullopt; }
    std::vector<ShapeKey> vars() const override { return {{"n", 1, 64}}; }
    std::vector<OpVars> test_shapes() const override { return {{{"n", 8}}}; }
    std::vector<OpVars> bench_shapes() const override { return test_shapes(); }
    WorkCounts counts(const OpVars&) const override { return {}; }
    std::vector<std::vector<float>> inputs(const OpVars&) const override { return {{1.0f}}; }
    std::vector<std::int64_t> output_floats(const OpVars& v) const override { return {v.at("n")}; }
    OpRun prepare(Backend&, const OpVars& v) const override {
      return [n = v.at("n")](const std::vector<Buffer>&, std::vector<Buffer>& out) {
        for (std::int64_t i = 0; i <= n; ++i) out[0].as<float>()[i] = 1.0f;
      };
    }
    OpCheck check(const OpVars&, const std::vector<std::vector<float>>&,
                  const std::vector<std::vector<float>>&, const OperandRounding&) const override {
      return {0.0, 0.0};
    }
  } overrun;
  auto backend = make_backend("scalar");
  OpCaseRun run(*backend, overrun, {{"n", 8}});
  CHECK_THROWS_WITH(run.verify(), Catch::Contains("wrote past the end of output 0"));
}

TEST_CASE("an op case's check fails on a NaN, an unwritten output and a wrong element") {
  auto backend = make_backend("scalar");
  for (const OpCase* c : op_cases()) {
    INFO(c->name());
    const OpVars vars = c->test_shapes()[1];
    const auto in = c->inputs(vars);
    // Run the real kernel, then corrupt its result in three ways.
    OpCaseRun run(*backend, *c, vars);
    const double error = run.verify();  // before tolerance(): the bound comes from the check
    REQUIRE(error <= run.tolerance());
    std::vector<std::vector<float>> out;
    for (const std::int64_t n : c->output_floats(vars)) out.emplace_back(n);
    std::vector<Buffer> din, dout;
    for (const auto& x : in) din.push_back(backend->upload_new(x));
    for (const auto& o : out) dout.push_back(backend->upload_new(nan_filled(o.size())));
    c->prepare(*backend, vars)(din, dout);
    for (std::size_t i = 0; i < out.size(); ++i) backend->download(dout[i], out[i]);
    const OpCheck good = c->check(vars, in, out, OperandRounding{});
    CHECK(good.max_rel_error <= good.tolerance);
    const std::size_t last = out[0].size() - 1;
    auto wrong = out;
    wrong[0][last] = wrong[0][last] * 1.01f + 0.01f;
    const OpCheck bad = c->check(vars, in, wrong, OperandRounding{});
    CHECK(bad.max_rel_error > bad.tolerance);
    auto nan = out;
    nan[0][0] = std::numeric_limits<float>::quiet_NaN();
    const OpCheck poisoned = c->check(vars, in, nan, OperandRounding{});
    CHECK_FALSE(poisoned.max_rel_error <= poisoned.tolerance);
  }
}

TEST_CASE("a backend without an op says so before anything is built") {
  const BackendDescriptor& onednn = find_backend("onednn");
  CHECK_FALSE(onednn.supports(Op::rmsnorm, "f32"));
  CHECK(onednn.lacks(Op::rmsnorm, "f32") == "onednn has no rmsnorm for f32");
  auto backend = onednn.make();
  CHECK_THROWS_AS(backend->make_kernel(RmsnormShape{1, 8}), UnsupportedOp);
  CHECK(find_backend("cuda-bf16").lacks(Op::attention, "bf16") ==
        "cuda-bf16 has no attention for bf16");
}

TEST_CASE("a shape no kernel can take is refused by name before a backend sees it") {
  auto backend = find_backend("scalar").make();
  AttentionShape gqa{.B = 1, .H = 9, .S = 1, .L = 4, .D = 8, .kv_heads = 2};
  CHECK_THROWS_WITH(backend->make_kernel(gqa),
                    Catch::Contains("9 query heads are not a multiple of 2 KV heads"));
  gqa.kv_heads = 12;
  CHECK_THROWS_AS(backend->make_kernel(gqa), std::invalid_argument);
  CHECK_THROWS_WITH(backend->make_kernel(RopeShape{.head_dim = 7}),
                    Catch::Contains("head_dim 7 must be even"));
  CHECK_THROWS_AS(backend->make_kernel(RopeShape{.heads = 3, .head_dim = 8, .row_heads = 2}),
                  std::invalid_argument);
}

// Through the op cases, so that an op added to core/ops/ops.hpp needs no line here: each op has
// a case, and each case's first test shape builds on every backend that offers its op.
TEST_CASE("every op a descriptor lists builds a kernel on that backend") {
  for (const Op op : kAllOps) {
    INFO(op_name(op));
    CHECK(std::any_of(op_cases().begin(), op_cases().end(),
                      [op](const OpCase* c) { return c->op() == op; }));
  }
  for (const BackendDescriptor* d : backend_descriptors()) {
    if (!d->availability().available) {
      WARN("skipped: " << d->name << ": " << d->availability().reason);
      continue;
    }
    auto b = d->make();
    for (const OpCase* c : op_cases()) {
      if (!c->op() || c->weight_format() != WeightFormat::f32) continue;
      INFO(d->name << " " << c->name());
      const OpVars v = c->test_shapes().front();
      if (d->supports(*c->op(), d->default_dtype())) {
        CHECK(c->prepare(*b, v) != nullptr);
      } else {
        CHECK_THROWS_AS(c->prepare(*b, v), UnsupportedOp);
      }
    }
  }
}

// The kernel files register themselves while the program starts (core/kernel_table.hpp), in
// libraries linked whole: a registration the linker dropped would show as an op missing here.
TEST_CASE("each backend offers exactly what its op files register") {
  const std::vector<Op> all(std::begin(kAllOps), std::end(kAllOps));
  for (const char* name : {"scalar", "simd", "openmp"}) {
    INFO(name);
    CHECK(find_backend(name).ops() == all);
  }
  // oneDNN 2.6 has no RMS normalization and no rotary embedding primitive.
  CHECK(find_backend("onednn").ops() ==
        std::vector<Op>{Op::matmul, Op::attention, Op::layernorm, Op::elementwise});
}

TEST_CASE("a kernel table finds its own kernels first, then its base's, and refuses a second") {
  KernelTable base("base");
  KernelTable own("own", &base);
  int built_by = 0;
  base.add<RmsnormShape>([&](Backend&, const RmsnormShape&) {
    built_by = 1;
    return std::unique_ptr<RmsnormKernel>();
  });
  own.add<LayernormShape>(
      [](Backend&, const LayernormShape&) { return std::unique_ptr<LayernormKernel>(); });
  CHECK(own.ops() == std::vector<Op>{Op::layernorm, Op::rmsnorm});
  CHECK(base.ops() == std::vector<Op>{Op::rmsnorm});
  CHECK_FALSE(own.has(Op::matmul));
  auto scalar = find_backend("scalar").make();
  CHECK(own.make(*scalar, MatmulShape{1, 1, 1}) == nullptr);
  (void)own.make(*scalar, RmsnormShape{1, 8});
  CHECK(built_by == 1);
  CHECK_THROWS_WITH(base.add<RmsnormShape>([](Backend&, const RmsnormShape&) {
    return std::unique_ptr<RmsnormKernel>();
  }),
                    Catch::Contains("kernel table 'base': a second kernel for rmsnorm"));
}

TEST_CASE("the op workload names each case and refuses an unknown op by name") {
  const Workload& w = find_workload("op");
  CHECK(w.parse("op=rmsnorm,dim=768,rows=1").text() == "op=rmsnorm,rows=1,dim=768");
  CHECK(w.ops(w.parse("op=rmsnorm,rows=1,dim=8")) == std::vector<Op>{Op::rmsnorm});
  CHECK(w.ops(w.parse("op=merge_heads,tokens=1,heads=1,head_dim=1")).empty());
  CHECK_THROWS_WITH(w.parse("op=softmax,n=3"),
                    Catch::Contains("unknown op 'softmax'") && Catch::Contains("rmsnorm"));
  CHECK_THROWS_WITH(w.parse("op=rmsnorm,rows=0,dim=8"), Catch::Contains("rows=0 is out of range"));
  CHECK(w.preset_shapes(Preset::quick).size() == op_cases().size());
}

TEST_CASE("the int8-activation check passes fp32 arithmetic and fails a wrong element or a NaN") {
  // Its bound (workloads/matmul.hpp) holds for fp32 activations too, so the scalar backend's
  // result passes; inputs lie in [-1, 1], so each element's scale is at most K and a shift of
  // K / 100 is at least 1% of it, well above the tolerance (about 0.4%).
  auto backend = make_backend("scalar");
  const OperandRounding int8{.activations = ActivationRounding::int8_blocks};
  for (const WeightFormat f : simd::int8_activation_formats()) {
    const OpCase& c = find_op_case(std::string("matmul_") + weight_format_name(f));
    for (const OpVars& vars : c.test_shapes()) {
      INFO(format_op_shape(c, vars));
      const auto in = c.inputs(vars);
      std::vector<std::vector<float>> out;
      for (const std::int64_t n : c.output_floats(vars)) out.emplace_back(n);
      std::vector<Buffer> din, dout;
      for (const auto& x : in) din.push_back(backend->upload_new(x));
      for (const auto& o : out) dout.push_back(backend->upload_new(nan_filled(o.size())));
      c.prepare(*backend, vars)(din, dout);
      backend->download(dout[0], out[0]);
      const OpCheck good = c.check(vars, in, out, int8);
      CHECK(good.max_rel_error <= good.tolerance);
      CHECK(good.tolerance < 0.005);
      auto wrong = out;
      wrong[0].back() += 0.01f * float(vars.at("K"));
      const OpCheck bad = c.check(vars, in, wrong, int8);
      CHECK(bad.max_rel_error > bad.tolerance);
      auto nan = out;
      nan[0].front() = std::numeric_limits<float>::quiet_NaN();
      const OpCheck poisoned = c.check(vars, in, nan, int8);
      CHECK_FALSE(poisoned.max_rel_error <= poisoned.tolerance);
    }
  }
}
