#pragma once
// One op as a case (ggml's test-backend-ops is the model): its variables, seeded random
// inputs, the float64 reference and a tolerance derived from the op's arithmetic, its FLOPs and
// bytes. The same case serves the correctness sweep (tests/test_op_cases.cpp: every backend x
// threads x SIMD target, outputs NaN-poisoned, guard regions after every output that must stay
// untouched) and the perf mode: the `op` workload registers each case as a benchmark
// (`op/<backend>/op=rmsnorm,rows=1,dim=768/threads:1`), so every op gets its own rows.
// Adding an op means adding a case here (one file under workloads/op_cases/), not a test file.
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "workloads/shape_args.hpp"
#include "workloads/workload.hpp"

namespace aigc {

using OpVars = std::map<std::string, std::int64_t>;

// What check() returns: the largest relative error of the outputs against the float64
// reference (NaN-aware: a NaN or infinite output makes it infinite) and the bound the arithmetic
// allows for these inputs (attention's depends on the scores).
struct OpCheck {
  double max_rel_error = 0;
  double tolerance = 0;
};

// What prepare() returns: runs the op on buffers laid out as inputs() and outputs() say.
using OpRun = std::function<void(const std::vector<Buffer>& in, std::vector<Buffer>& out)>;

class OpCase {
 public:
  virtual ~OpCase() = default;
  virtual std::string name() const = 0;
  // The capability it needs; none for data movement, which every backend has.
  virtual std::optional<Op> op() const = 0;
  // The format its weights are stored in (a matmul's B); f32 for the rest.
  virtual WeightFormat weight_format() const { return WeightFormat::f32; }
  // The same op and variables with the weights in format f (e.g. matmul_q4_1 -> matmul with
  // tb=1); none where the op has no such twin.
  virtual std::optional<std::pair<const OpCase*, OpVars>> with_weight_format(
      const OpVars& /*v*/, WeightFormat /*f*/) const {
    return std::nullopt;
  }
  virtual std::vector<ShapeKey> vars() const = 0;
  // Refuses variables that are each in range but do not fit together (InvalidArgument naming
  // `shapes`), before anything is built.
  virtual void check_vars(const OpVars& /*v*/) const {}
  // The sweep's shapes: edges (1, odd, one past a vector, larger than a thread's share).
  virtual std::vector<OpVars> test_shapes() const = 0;
  // The benchmark's shapes (GPT-2 124M and Llama-family sizes: a decode step and a prefill).
  virtual std::vector<OpVars> bench_shapes() const = 0;
  virtual WorkCounts counts(const OpVars& v) const = 0;
  // Seeded random inputs (never zeros) and the output sizes, in floats.
  virtual std::vector<std::vector<float>> inputs(const OpVars& v) const = 0;
  virtual std::vector<std::int64_t> output_floats(const OpVars& v) const = 0;
  // Builds the kernel (set-up outside the timed region) and returns what runs it.
  virtual OpRun prepare(Backend& backend, const OpVars& v) const = 0;
  // The outputs against the float64 reference. `rounding` is what the backend's arithmetic
  // adds to the operands (bf16: 2^-8 each; int8 blocks of A), which widens the bound.
  virtual OpCheck check(const OpVars& v, const std::vector<std::vector<float>>& in,
                        const std::vector<std::vector<float>>& out,
                        const OperandRounding& rounding) const = 0;
};

// Every op case, in reporting order.
const std::vector<const OpCase*>& op_cases();
// Throws InvalidArgument("shapes", ...) naming the valid ops.
const OpCase& find_op_case(const std::string& name);

// "op=<name>,<var>=<value>,..." and back.
std::string format_op_shape(const OpCase& c, const OpVars& v);
std::pair<const OpCase*, OpVars> parse_op_shape(const std::string& text);

// A case ready on a backend: inputs uploaded, each output followed by guard floats.
// An op workload's parsed shape: the case and its variables.
struct OpShape {
  const OpCase* op_case = nullptr;
  OpVars vars;
};

class OpCaseRun final : public WorkloadCase {
 public:
  // Guard floats after each output: a kernel that writes past its output changes them.
  static constexpr std::int64_t kGuardFloats = 64;

  OpCaseRun(Backend& backend, const OpCase& op_case, const OpVars& vars);
  void run() override { run_(inputs_, outputs_); }
  // Poisons the outputs (NaN) and fills the guards, runs once, checks the guards (throws
  // std::runtime_error naming the output written past its end) and returns the error.
  double verify() override;
  // The bound of the last verify() (which make_ready_case always runs first).
  double tolerance() const override { return tolerance_; }

 private:
  Backend& backend_;
  const OpCase& case_;
  OpVars vars_;
  std::vector<std::vector<float>> host_inputs_;
  std::vector<std::int64_t> output_floats_;
  std::vector<Buffer> inputs_, outputs_;
  OpRun run_;
  double tolerance_ = 0;
};

// The `op` workload: every op case as a benchmark.
class OpWorkload final : public Workload {
 public:
  std::string name() const override { return "op"; }
  bool in_default_run() const override { return false; }
  std::vector<std::string> preset_shapes(Preset preset) const override;
  Shape parse(const std::string& text) const override;
  WorkCounts counts(const Shape& shape) const override;
  std::vector<Op> ops(const Shape& shape) const override;
  std::vector<WeightFormat> weight_formats(const Shape& shape) const override;
  std::string stored_dtype(const Shape& shape) const override;
  Shape with_f32_weights(const Shape& shape) const override;
  // An op has no smaller unit: the serial model's unit is the op itself.
  Shape unit_shape(const Shape& shape) const override { return shape; }
  std::unique_ptr<WorkloadCase> make_case(Backend& backend, const Shape& shape) const override;
  static Shape shape_of(const OpCase& c, const OpVars& vars);
};

}  // namespace aigc
