#include "driver/run_command.hpp"

#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <map>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <fmt/ostream.h>
#include <fmt/ranges.h>

#include "core/energy.hpp"
#include "core/files.hpp"
#include "core/machine.hpp"
#include "core/stats.hpp"
#include "distributed/communicator.hpp"
#include "driver/apply_models.hpp"
#include "driver/collectives_rows.hpp"
#include "driver/run_plan.hpp"
#include "driver/summary_table.hpp"
#include "driver/tensor_parallel_rows.hpp"
#include "kernels/platform.hpp"
#include "kernels/registry.hpp"
#include "measure/measure.hpp"
#include "measure/runner.hpp"
#include "timing/models.hpp"
#include "workloads/decoder.hpp"

namespace aigc {
namespace {

// The accuracy of one (model, format), said on `out`; none for a model without a tokenizer
// (random weights) and where it failed (said).
std::optional<DecoderAccuracy> accuracy_of(const DecoderShape& s, Backend& backend,
                                           std::ostream& out) {
  try {
    const auto a = decoder_accuracy(s, backend);
    if (a) {
      fmt::print(out,
                 "accuracy: {} in {}: perplexity {:.3f} on {} tokens of text (f32: {:.3f}), "
                 "greedy agreement with f32 {:.0f}% of 64 tokens\n",
                 s.config.name, s.dtype.name(), a->perplexity, a->text_tokens, a->perplexity_f32,
                 100 * a->greedy_agreement);
    }
    return a;
  } catch (const std::exception& e) {
    fmt::print(out, "accuracy: {} in {}: not measured ({})\n", s.config.name, s.dtype.name(),
               e.what());
    return std::nullopt;
  }
}

// The accuracy of each real model's weight format in the run (workloads/decoder), beside its
// decoder rows (rows[i] is measurements[i]'s): measured once per (model, format) on the openmp
// backend at all cores, the fastest CPU one (the arithmetic's own error is each row's
// max_rel_error).
void add_decoder_accuracy(const std::vector<Measurement>& measurements,
                          std::vector<ResultRow>& rows, std::ostream& out) {
  std::unique_ptr<Backend> backend;
  std::map<std::string, std::optional<DecoderAccuracy>> by_model_format;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    ResultRow& r = rows[i];
    if (r.workload != "decoder" || r.status.rfind("error", 0) == 0) continue;
    const DecoderShape& s = measurements[i].shape.as<DecoderShape>();
    const std::string key = fmt::format("{}|{}", s.config.name, s.dtype.name());
    if (!by_model_format.contains(key)) {
      if (!backend) {
        backend = openmp_descriptor().make();
        backend->set_threads(std::min(backend->max_threads(), machine_info().cores));
      }
      by_model_format[key] = accuracy_of(s, *backend, out);
    }
    if (const auto& a = by_model_format[key]) {
      r.perplexity = a->perplexity;
      r.perplexity_f32 = a->perplexity_f32;
      r.greedy_agreement = a->greedy_agreement;
    }
  }
}

// The serial model's T_single per shape: one unit alone on the scalar backend.
std::map<std::string, SerialBaseline> measure_serial_baselines(const RunPlan& plan,
                                                               std::ostream& out) {
  std::map<std::string, SerialBaseline> baselines;
  for (const PlannedShape& p : plan.shapes) {
    const Measurement u = measure(p.unit, plan.timing);
    SerialBaseline& base = baselines[baseline_key(*p.workload, p.shape)];
    base.n_units = p.workload->counts(p.shape).n_units;
    if (u.status == "ok" && !u.times_s.empty()) base.t_single_s = summarize(u.times_s).median;
    fmt::print(out, "serial model: {} {} one unit ({}) = {}\n", p.workload->name(), p.shape.text(),
               p.unit.shape.text(),
               base.t_single_s ? fmt::format("{:.3g} s", *base.t_single_s) : u.status);
  }
  return baselines;
}

// A scalar run the serial model predicts past the budget is not run: its row says so, and the
// baseline comes from the model. Memory is the harder limit: say so when the case cannot fit.
std::optional<std::string> scalar_budget_skip(const BenchSpec& spec, const SerialBaseline& base,
                                              double budget_s) {
  if (!base.t_single_s) return std::nullopt;
  const double predicted = *base.t_single_s * base.n_units;
  if (predicted <= budget_s) return std::nullopt;
  // The plan's own reason (memory, decided without building anything) comes first.
  if (spec.not_runnable) return "skipped: " + *spec.not_runnable;
  std::string reason = fmt::format(
      "skipped: predicted {:.3g} s > scalar budget {:.3g} s; baseline from the serial model",
      predicted, budget_s);
  try {
    auto scalar = spec.backend->make();
    spec.workload->make_case(*scalar, spec.shape);
  } catch (const InsufficientMemory& e) {
    reason = std::string("skipped: ") + e.what();
  }
  return reason;
}

std::vector<Measurement> run_plan(const RunPlan& plan,
                                  const std::map<std::string, SerialBaseline>& baselines,
                                  double scalar_budget_s, std::ostream& out) {
  std::vector<Measurement> measurements;
  std::string device_fault;  // the first sticky GPU error: later GPU rows cannot run
  for (std::size_t i = 0; i < plan.specs.size(); ++i) {
    const BenchSpec& spec = plan.specs[i];
    std::optional<std::string> skip;
    if (spec.backend->name == "scalar") {
      skip = scalar_budget_skip(spec, baselines.at(baseline_key(*spec.workload, spec.shape)),
                                scalar_budget_s);
    }
    if (!device_fault.empty() && spec.backend->compute_class == ComputeClass::gpu) {
      skip =
          "skipped: the GPU faulted in an earlier row of this run, and its context runs "
          "nothing more (" +
          device_fault + ")";
    }
    Measurement m = skip ? unmeasured(spec, *skip) : measure(spec, plan.timing, &device_fault);
    fmt::print(
        out, "[{}/{}] {}: {}\n", i + 1, plan.specs.size(), benchmark_name(spec),
        m.status == "ok" ? fmt::format("{:.4g} ms", 1e3 * summarize(m.times_s).median) : m.status);
    out.flush();
    measurements.push_back(std::move(m));
  }
  return measurements;
}

// Stamps the run and the machine on every row and writes the results atomically.
void write_results(std::vector<ResultRow>& rows, const RunOptions& o) {
  const MachineInfo& mi = machine_info();
  const std::time_t now = std::time(nullptr);
  const std::string timestamp = fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(now));
  const std::string run_id = fmt::format("{:%Y%m%dT%H%M%SZ}-{}", fmt::gmtime(now), ::getpid());
  const std::string gpu = platform::query_devices().name;
  const std::string machine = machine_id();
  for (ResultRow& r : rows) {
    r.run_id = run_id;
    r.timestamp = timestamp;
    r.machine = machine;
    r.host = mi.host;
    r.cpu_model = mi.cpu_model;
    r.cores = mi.cores;
    r.gpu_name = gpu;
    r.compiler = mi.compiler;
    r.build_type = mi.build_type;
  }
  if (o.format == ResultsFormat::json) {
    write_file_atomically(o.out, to_json(rows));
    return;
  }
  // Two renames cannot be one atomic step, so the new repetitions file also holds the times of
  // the results it is about to replace, and is renamed first: a kill or an error between the
  // renames leaves the old results beside repetitions that still hold their run's times (a
  // reader takes a results file's times by its run_id), and after both the new pair. The
  // repetitions file so carries at most the one run before.
  write_files_atomically(
      {{repetitions_path(o.out), repetitions_to_csv(rows) + carried_repetitions(o.out)},
       {o.out, to_csv(rows)}});
}

// The distributed model, the results written, the summaries, and the exit status.
int finish_run(std::vector<ResultRow>& rows, const RunOptions& o, std::ostream& out,
               std::ostream& err) {
  apply_collective_models(rows);
  write_results(rows, o);
  std::vector<ResultRow> compute;
  std::copy_if(rows.begin(), rows.end(), std::back_inserter(compute),
               [](const ResultRow& r) { return r.workload != "collectives"; });
  if (!compute.empty()) print_summary_table(compute, out);
  print_collectives_summary(rows, out);
  print_roofline_warnings(rows, err);
  if (o.format == ResultsFormat::json) {
    fmt::print(out, "\nwrote {} rows to {} (each repetition's time inside)\n", rows.size(), o.out);
  } else {
    fmt::print(out, "\nwrote {} rows to {} (each repetition's time in {})\n", rows.size(), o.out,
               repetitions_path(o.out));
  }

  const auto errors = std::count_if(
      rows.begin(), rows.end(), [](const ResultRow& r) { return r.status.rfind("error", 0) == 0; });
  if (errors > 0) {
    fmt::print(err, "aigcbench: {} configuration(s) failed; see the status column\n", errors);
    return 1;
  }
  // A run that measured nothing (every row skipped: a GPU backend without a GPU, collectives
  // without mpirun) is not a success, though its rows say why.
  if (std::none_of(rows.begin(), rows.end(), [](const ResultRow& r) { return r.status == "ok"; })) {
    fmt::print(err,
               "aigcbench: error: nothing was measured: every one of the {} configuration(s) was "
               "skipped (the status column of {} says why)\n",
               rows.size(), o.out);
    return 1;
  }
  return 0;
}

// The plan's collectives (none: no rows).
std::vector<ResultRow> measure_collectives_of(const RunPlan& plan, std::ostream& out) {
  if (plan.collectives == nullptr) return {};
  return measure_collectives(*plan.collectives, plan.collective_shapes, plan.timing, out);
}

// Rank 0's part of a run (the whole run in one process): it alone probes, writes and prints.
int run_on_root(const RunPlan& plan, const RunOptions& o, std::ostream& out, std::ostream& err) {
  // One run per output at a time; it clears what a killed run left beside the pair.
  const OutputLock lock(o.out, "out", {repetitions_path(o.out)});
  const int ranks = dist::world_size();
  // A run of collectives only needs no ceilings.
  if (plan.shapes.empty()) {
    if (ranks > 1) dist::idle_barrier();  // the other ranks wait for the output's lock
    fmt::print(out, "machine: {}\nranks: {}\n", machine_id(), ranks);
    std::vector<ResultRow> rows =
        measure_collectives(*plan.collectives, plan.collective_shapes, plan.timing, out);
    return finish_run(rows, o, out, err);
  }

  // The machine's ceilings.
  const ProbeResult probe =
      load_or_run_probe(plan.probe_path, {.reprobe = o.reprobe, .spot_check = !o.trust_probe},
                        [&](const std::string& s) { fmt::print(out, "probe: {}\n", s); });
  fmt::print(out, "probe: {} (measured {}; {})\nmachine: {}\n", probe_cache_path(plan.probe_path),
             probe.timestamp, probe.provenance, machine_id());
  // Where energy comes from, or why its columns stay empty: one line per kind of hardware.
  fmt::print(out, "energy (CPU backends): {}\n", energy_description(false));
  if (platform::query_devices().device_count > 0) {
    fmt::print(out, "energy (GPU backends): {}\n", energy_description(true));
  }
  if (o.backends.empty()) {
    for (const BackendDescriptor* d : backend_descriptors()) {
      if (const Availability av = d->availability(); !av.available)
        fmt::print(out, "not run: {} ({})\n", d->name, av.reason);
    }
  }

  std::vector<ResultRow> rows;
  if (ranks > 1) {
    // Tensor-parallel rows: the other ranks, asleep while this one probed, join in.
    fmt::print(out, "ranks: {} (each at {} thread(s))\n", ranks, fmt::join(plan.threads, ","));
    dist::idle_barrier();
    rows = apply_models(measure_tensor_parallel(plan.specs, plan.timing, out), {}, probe);
    if (o.accuracy) fmt::print(out, "accuracy: not measured on ranks (f32 weights only)\n");
  } else {
    const auto baselines = measure_serial_baselines(plan, out);
    const std::vector<Measurement> measured = run_plan(plan, baselines, o.scalar_budget_s, out);
    rows = apply_models(measured, baselines, probe);
    if (o.accuracy) add_decoder_accuracy(measured, rows, out);
  }
  std::vector<ResultRow> collectives = measure_collectives_of(plan, out);
  rows.insert(rows.end(), collectives.begin(), collectives.end());
  return finish_run(rows, o, out, err);
}

// What a rank other than 0 prints: nothing (rank 0 speaks for the run).
class NullBuffer : public std::streambuf {
 protected:
  int overflow(int c) override { return c; }
};

}  // namespace

int run_command(const RunOptions& o, std::ostream& root_out, std::ostream& root_err) {
  // Under mpirun every rank runs this; only rank 0 prints, probes and writes the results.
  const dist::MpiSession mpi;
  NullBuffer null_buffer;
  std::ostream null_stream(&null_buffer);
  const bool root = dist::is_root();
  std::ostream& out = root ? root_out : null_stream;
  std::ostream& err = root ? root_err : null_stream;
  RunPlan plan;
  try {
    plan = make_run_plan(o);
  } catch (const std::exception&) {
    if (!root) return 2;  // every rank refuses the same arguments; rank 0 says why
    throw;
  }
  if (!root) {
    dist::idle_barrier();  // rank 0 takes the output's lock and probes alone first
    measure_tensor_parallel(plan.specs, plan.timing, out);
    measure_collectives_of(plan, out);
    return 0;
  }
  try {
    return run_on_root(plan, o, out, err);
  } catch (const std::exception& e) {
    if (dist::world_size() == 1) throw;
    // The other ranks wait in a collective rank 0 will never join (its output is locked by
    // another run, say): end them all rather than hang.
    fmt::print(err, "aigcbench: error: {}\n", e.what());
    err.flush();
    dist::abort_world(1);
  }
}

}  // namespace aigc
