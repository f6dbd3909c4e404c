#include "workloads/op_case.hpp"

#include <cmath>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/verify.hpp"
#include "workloads/op_cases/cases.hpp"

namespace aigc {
namespace {

// A guard value no kernel computes by accident (and not NaN, which is the poison).
constexpr float kGuard = -12345.678f;

}  // namespace

const std::vector<const OpCase*>& op_cases() {
  static const std::vector<const OpCase*> list = all_op_cases();
  return list;
}

const OpCase& find_op_case(const std::string& name) {
  std::vector<std::string> names;
  for (const OpCase* c : op_cases()) {
    if (c->name() == name) return *c;
    names.push_back(c->name());
  }
  throw InvalidArgument("shapes",
                        fmt::format("unknown op '{}' (valid: {})", name, fmt::join(names, ", ")));
}

std::string format_op_shape(const OpCase& c, const OpVars& v) {
  std::string s = "op=" + c.name();
  for (const ShapeKey& k : c.vars()) s += fmt::format(",{}={}", k.key, v.at(k.key));
  return s;
}

std::pair<const OpCase*, OpVars> parse_op_shape(const std::string& text) {
  if (text.rfind("op=", 0) != 0)
    throw InvalidArgument("shapes", fmt::format("'{}' must start with op=<name>", text));
  const auto comma = text.find(',');
  const OpCase& c = find_op_case(text.substr(3, comma == std::string::npos ? comma : comma - 3));
  const std::string rest = comma == std::string::npos ? "" : text.substr(comma + 1);
  OpVars vars = parse_shape(rest, c.vars());
  c.check_vars(vars);
  return {&c, std::move(vars)};
}

OpCaseRun::OpCaseRun(Backend& backend, const OpCase& op_case, const OpVars& vars)
    : backend_(backend),
      case_(op_case),
      vars_(vars),
      host_inputs_(op_case.inputs(vars)),
      output_floats_(op_case.output_floats(vars)) {
  for (const auto& in : host_inputs_) inputs_.push_back(backend.upload_new(in));
  for (const std::int64_t n : output_floats_) {
    outputs_.push_back(
        backend.allocate(sizeof(float) * static_cast<std::size_t>(n + kGuardFloats)));
  }
  run_ = op_case.prepare(backend, vars);
}

double OpCaseRun::verify() {
  for (std::size_t i = 0; i < outputs_.size(); ++i) {
    std::vector<float> poisoned = nan_filled(output_floats_[i] + kGuardFloats);
    std::fill(poisoned.begin() + output_floats_[i], poisoned.end(), kGuard);
    backend_.upload(outputs_[i], poisoned);
  }
  run();
  backend_.synchronize();
  std::vector<std::vector<float>> results;
  for (std::size_t i = 0; i < outputs_.size(); ++i) {
    std::vector<float> all(output_floats_[i] + kGuardFloats);
    backend_.download(outputs_[i], all);
    for (std::int64_t g = 0; g < kGuardFloats; ++g) {
      const float v = all[output_floats_[i] + g];
      if (std::memcmp(&v, &kGuard, sizeof v) != 0) {
        throw std::runtime_error(
            fmt::format("{} wrote past the end of output {} ({} floats): guard float {} changed",
                        case_.name(), i, output_floats_[i], g));
      }
    }
    all.resize(output_floats_[i]);
    results.push_back(std::move(all));
  }
  const OpCheck c = case_.check(vars_, host_inputs_, results,
                                backend_.descriptor().operand_rounding_for(case_.weight_format()));
  tolerance_ = c.tolerance;
  return c.max_rel_error;
}

std::vector<std::string> OpWorkload::preset_shapes(Preset preset) const {
  std::vector<std::string> shapes;
  for (const OpCase* c : op_cases()) {
    const std::vector<OpVars> vars = preset == Preset::smoke ? c->test_shapes() : c->bench_shapes();
    // Smoke: the two smallest edge shapes; quick and gpu: the decode-step shape; full: all.
    const std::size_t n = preset == Preset::smoke ? std::min<std::size_t>(2, vars.size())
                          : preset == Preset::quick || preset == Preset::gpu ? 1
                                                                             : vars.size();
    for (std::size_t i = 0; i < n; ++i) shapes.push_back(format_op_shape(*c, vars[i]));
  }
  return shapes;
}

Shape OpWorkload::parse(const std::string& text) const {
  const auto [c, vars] = parse_op_shape(text);
  return shape_of(*c, vars);
}

Shape OpWorkload::shape_of(const OpCase& c, const OpVars& vars) {
  return Shape(format_op_shape(c, vars), OpShape{&c, vars});
}

WorkCounts OpWorkload::counts(const Shape& shape) const {
  const auto& [c, vars] = shape.as<OpShape>();
  WorkCounts w = c->counts(vars);
  // Inputs and outputs (what `bytes` counts: each read or written once) with the outputs'
  // guards, on the host and on the backend.
  const double guards = 4.0 * OpCaseRun::kGuardFloats * double(c->output_floats(vars).size());
  w.host_bytes = w.backend_bytes = w.bytes + guards;
  return w;
}

std::vector<Op> OpWorkload::ops(const Shape& shape) const {
  if (const auto op = shape.as<OpShape>().op_case->op()) return {*op};
  return {};
}

std::vector<WeightFormat> OpWorkload::weight_formats(const Shape& shape) const {
  return {shape.as<OpShape>().op_case->weight_format()};
}

std::string OpWorkload::stored_dtype(const Shape& shape) const {
  const WeightFormat f = shape.as<OpShape>().op_case->weight_format();
  return f == WeightFormat::f32 ? "" : weight_format_name(f);
}

Shape OpWorkload::with_f32_weights(const Shape& shape) const {
  const auto& [c, vars] = shape.as<OpShape>();
  const auto twin = c->with_weight_format(vars, WeightFormat::f32);
  return twin ? shape_of(*twin->first, twin->second) : shape;
}

std::unique_ptr<WorkloadCase> OpWorkload::make_case(Backend& backend, const Shape& shape) const {
  const auto& [c, vars] = shape.as<OpShape>();
  return std::make_unique<OpCaseRun>(backend, *c, vars);
}

}  // namespace aigc
