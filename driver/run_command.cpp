#include "driver/run_command.hpp"

#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <map>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <fmt/ostream.h>
#include <fmt/ranges.h>

#include "measure/runner.hpp"
#include "core/energy.hpp"
#include "core/files.hpp"
#include "core/machine.hpp"
#include "core/stats.hpp"
#include "distributed/communicator.hpp"
#include "driver/collectives_rows.hpp"
#include "measure/measure.hpp"
#include "driver/tensor_parallel_rows.hpp"
#include "driver/summary_table.hpp"
#include "kernels/platform.hpp"
#include "kernels/registry.hpp"
#include "timing/models.hpp"
#include "workloads/decoder.hpp"

namespace aigc {
namespace {

// A shape of the plan, parsed once: what every later step needs of it.
struct PlannedShape {
  const Workload* workload;
  std::string shape;  // canonical
  std::string phase;
  WorkCounts counts;
  std::string unit_shape;  // the serial model's unit
  WorkCounts unit_counts;
};

struct RunPlan {
  std::vector<PlannedShape> shapes;
  std::vector<std::string> collective_shapes;  // canonical; measured on MPI ranks
  std::vector<std::string> backends;
  std::vector<int> threads;
  TimingPolicy timing;
};

// The accuracy of each real model's weight format in the run (workloads/decoder), beside its
// decoder rows: measured once per (model, format) on the openmp backend at all cores, the
// fastest CPU one (the arithmetic's own error is each row's max_rel_error). A model without a
// tokenizer (random weights) has none; a failure is said and leaves the cells empty.
void add_decoder_accuracy(std::vector<ResultRow>& rows, std::ostream& out) {
  std::unique_ptr<Backend> backend;
  std::map<std::string, std::optional<DecoderAccuracy>> by_model_format;
  for (ResultRow& r : rows) {
    if (r.workload != "decoder" || r.status.rfind("error", 0) == 0) continue;
    DecoderShape s = parse_decoder_shape(r.shape);
    const std::string key = fmt::format("{}|{}", s.config.name, weight_format_name(s.format));
    if (!by_model_format.contains(key)) {
      auto& slot = by_model_format[key];
      try {
        if (!backend) {
          backend = make_backend("openmp");
          backend->set_threads(std::min(backend->max_threads(), machine_info().cores));
        }
        slot = decoder_accuracy(r.shape, *backend);
        if (slot) {
          fmt::print(out,
                     "accuracy: {} in {}: perplexity {:.3f} on {} tokens of text (f32: {:.3f}), "
                     "greedy agreement with f32 {:.0f}% of 64 tokens\n",
                     s.config.name, weight_format_name(s.format), slot->perplexity,
                     slot->text_tokens, slot->perplexity_f32, 100 * slot->greedy_agreement);
        }
      } catch (const std::exception& e) {
        fmt::print(out, "accuracy: {} in {}: not measured ({})\n", s.config.name,
                   weight_format_name(s.format), e.what());
      }
    }
    if (const auto& a = by_model_format[key]) {
      r.perplexity = a->perplexity;
      r.perplexity_f32 = a->perplexity_f32;
      r.greedy_agreement = a->greedy_agreement;
    }
  }
}

// B*: the batch at which the roofline's compute time B f / F meets its bandwidth time
// (W + B k) / BW, with f and k one sequence's FLOPs and bytes per run and W what a run reads
// once for all its sequences (the weights), read off the counts at batch 1 and 2. None where
// compute never catches up (f / F <= k / BW: each sequence's cache costs more time than its
// arithmetic).
std::optional<double> knee_batch(const Workload& w, const std::string& shape, double peak_flops,
                                 double peak_bytes_per_s) {
  const WorkCounts one = w.counts(w.with_batch(shape, 1)), two = w.counts(w.with_batch(shape, 2));
  const double f = two.flops - one.flops, k = two.bytes - one.bytes, weights = one.bytes - k;
  const double per_sequence = f / peak_flops - k / peak_bytes_per_s;
  if (!(per_sequence > 0) || !(weights > 0)) return std::nullopt;
  return (weights / peak_bytes_per_s) / per_sequence;
}

std::string key_of(const std::string& workload, const std::string& shape) {
  return workload + "|" + shape;
}

}  // namespace

std::vector<ResultRow> apply_models(const std::vector<Measurement>& measurements,
                                    const std::map<std::string, SerialBaseline>& baselines,
                                    const ProbeResult& probe) {
  // Medians by (workload, shape, backend, threads), for the baseline and T1 look-ups.
  std::map<std::string, double> median_of;
  auto config_key = [](const Measurement& m, const std::string& shape, const std::string& backend,
                       int threads) {
    return fmt::format("{}|{}|{}|{}", m.workload, shape, backend, threads);
  };
  for (const Measurement& m : measurements) {
    if (!m.times_s.empty() && m.status == "ok")
      median_of[config_key(m, m.shape, m.backend, m.threads)] = summarize(m.times_s).median;
  }

  std::vector<ResultRow> rows;
  for (const Measurement& m : measurements) {
    ResultRow r;
    r.workload = m.workload;
    r.shape = m.shape;
    r.phase = find_workload(m.workload).phase(m.shape);
    if (m.status == "ok") r.repetition_times_s = m.times_s;
    r.backend = m.backend;
    r.dtype = m.dtype;
    r.threads = m.threads;
    r.ranks = m.ranks;
    r.simd_target = m.simd_target;
    r.status = m.status;
    r.max_rel_error = m.max_rel_error;
    r.error_tolerance = m.tolerance;
    r.upload_s = m.upload_s;
    r.download_s = m.download_s;
    r.flops = m.counts.flops;
    r.bytes = m.counts.bytes;
    r.arithmetic_intensity = m.counts.flops / m.counts.bytes;

    // Serial model: T_serial = T_single * N, and the scalar baseline it may stand in for.
    const auto base_it = baselines.find(key_of(m.workload, m.shape));
    r.n_units = m.counts.n_units;
    if (base_it != baselines.end() && base_it->second.t_single_s) {
      r.t_single_s = base_it->second.t_single_s;
      r.t_serial_model_s = timing::serial_time(*r.t_single_s, m.counts.n_units);
    }
    if (const auto it = median_of.find(config_key(m, m.shape, "scalar", 1));
        it != median_of.end()) {
      r.baseline_time_s = it->second;
      r.baseline_source = "measured";
    } else if (r.t_serial_model_s) {
      r.baseline_time_s = r.t_serial_model_s;
      r.baseline_source = "serial_model";
    }

    // Roofline of the baseline hardware (one scalar core), for the predicted acceleration.
    auto working_set = [](const WorkCounts& c) {
      return c.working_set > 0 ? c.working_set : c.bytes;
    };
    const auto roof_scalar = timing::roofline(m.counts.flops, m.counts.bytes,
                                              probe.peak_flops(ComputeClass::scalar_core, 1),
                                              probe.peak_bytes_per_s(working_set(m.counts), 1));
    const ComputeClass cls = m.compute_class;
    // The cores the row ran on: each rank's threads.
    const int cores = m.threads * m.ranks;
    // The bandwidth this backend's hardware has for a working set of these counts.
    auto bandwidth = [&](const WorkCounts& c) {
      return cls == ComputeClass::gpu ? probe.gpu_bytes_per_s()
                                      : probe.peak_bytes_per_s(working_set(c), cores);
    };
    if (cls != ComputeClass::gpu || probe.gpu) {
      r.peak_flops = probe.peak_flops(cls, cores, m.dtype);
      r.peak_bytes_per_s = bandwidth(m.counts);
      const auto roof =
          timing::roofline(m.counts.flops, m.counts.bytes, *r.peak_flops, *r.peak_bytes_per_s);
      r.t_roofline_s = roof.time_s;
      r.bound = roof.compute_bound ? "compute" : "memory";
      r.predicted_speedup = timing::predicted_acceleration(roof_scalar.time_s, roof.time_s);
    }

    // Batched decoding: the batch, and where its roofline turns from bandwidth to compute.
    if (!r.phase.empty()) r.batch = find_workload(m.workload).batch(m.shape);
    if (r.phase == "decode" && r.peak_flops && r.peak_bytes_per_s) {
      r.knee_batch =
          knee_batch(find_workload(m.workload), m.shape, *r.peak_flops, *r.peak_bytes_per_s);
    }

    if (m.times_s.empty() || m.status != "ok") {
      rows.push_back(std::move(r));
      continue;
    }
    const SampleStats st = summarize(m.times_s);
    set_time_columns(r, st);
    // On ranks: the communication inside, and the same shape on one rank alone.
    if (!m.comm_s.empty()) r.t_comm_s = summarize(m.comm_s).median;
    if (m.one_rank_s) {
      r.t_one_rank_s = m.one_rank_s;
      r.distributed_efficiency = *m.one_rank_s / (m.ranks * st.median);
    }
    if (m.counts.tokens > 0) r.tokens_per_s = double(m.counts.tokens) / st.median;
    if (r.baseline_time_s) {
      r.speedup_vs_scalar = timing::measured_acceleration(*r.baseline_time_s, st.median);
      if (r.predicted_speedup)
        r.captured_speedup_fraction = *r.speedup_vs_scalar / *r.predicted_speedup;
    }
    if (m.backend == "scalar" && m.threads == 1 && r.t_serial_model_s) {
      r.serial_model_error = timing::serial_model_error(st.median, *r.t_serial_model_s);
    }
    if (const auto it = median_of.find(config_key(m, m.shape, m.backend, 1));
        it != median_of.end()) {
      r.t1_s = it->second;
      r.parallel_speedup = timing::parallel_speedup(it->second, st.median);
      r.parallel_efficiency = timing::parallel_efficiency(it->second, st.median, m.threads);
      if (const auto kf = timing::karp_flatt(*r.parallel_speedup, m.threads)) r.karp_flatt = *kf;
    }
    if (r.t_roofline_s) r.roofline_fraction = timing::roofline_fraction(*r.t_roofline_s, st.median);
    if (m.energy_j.size() == m.times_s.size()) {
      // Energy of one operation (median over the repetitions), its mean power over that
      // repetition's time, and the efficiencies a buyer compares.
      std::vector<double> watts;
      for (std::size_t i = 0; i < m.energy_j.size(); ++i)
        watts.push_back(m.energy_j[i] / m.times_s[i]);
      r.energy_j = summarize(m.energy_j).median;
      r.avg_power_w = summarize(watts).median;
      r.energy_source = m.energy_source;
      if (*r.energy_j > 0) {
        r.flop_per_joule = m.counts.flops / *r.energy_j;
        if (m.counts.tokens > 0) r.joules_per_token = *r.energy_j / double(m.counts.tokens);
      }
    }
    const Workload& workload = find_workload(m.workload);
    if (r.phase == "decode" && m.counts.tokens > 0) {
      r.ms_per_token = 1e3 * st.median * double(workload.batch(m.shape)) / double(m.counts.tokens);
    }
    // A stored weight format against the same shape in fp32, same backend and threads: the
    // accelerated model with the format as the optimization. S_pred is the ratio of the two
    // roofline times on the same ceilings (the ratio of bytes where both are memory-bound, as a
    // decode step is).
    if (workload.weight_format(m.shape) != WeightFormat::f32) {
      const std::string twin = workload.with_weight_format(m.shape, WeightFormat::f32);
      if (const auto it = median_of.find(config_key(m, twin, m.backend, m.threads));
          it != median_of.end()) {
        r.format_speedup = it->second / st.median;
      }
      if (r.peak_flops && r.peak_bytes_per_s) {
        const WorkCounts c = workload.counts(twin);
        const auto twin_roof = timing::roofline(c.flops, c.bytes, *r.peak_flops, bandwidth(c));
        r.format_speedup_pred = timing::predicted_acceleration(twin_roof.time_s, *r.t_roofline_s);
      }
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

namespace {

// Appends `value` unless it is there already; says whether it did.
template <typename T>
bool add_once(std::vector<T>& list, const T& value) {
  if (std::find(list.begin(), list.end(), value) != list.end()) return false;
  list.push_back(value);
  return true;
}

// Everything the user gave, checked before any work: names, shapes, threads, output paths.
RunPlan validate(const RunOptions& o) {
  std::vector<const Workload*> workloads;
  for (const std::string& w : o.workloads.empty() ? default_workload_names() : o.workloads) {
    workloads.push_back(&find_workload(w));
  }
  RunPlan plan;
  // By default every backend that can run here; one named explicitly runs or is recorded
  // as skipped with its reason.
  for (const std::string& b : o.backends.empty() ? available_backend_names() : o.backends) {
    find_backend(b);
    add_once(plan.backends, b);  // a configuration named twice is measured once
  }
  // Shapes given with several workloads go each to the one workload that reads it; a workload
  // given none runs its preset's (`--workloads collectives,decoder --shapes cfg=...,tp=2`).
  std::map<const Workload*, std::vector<std::string>> given;
  if (!o.shapes.empty() && o.workloads.empty()) {
    throw InvalidArgument("shapes", "shapes belong to the workloads named: choose them with "
                                    "--workloads");
  }
  for (const std::string& text : o.shapes) {
    if (workloads.size() == 1) {
      given[workloads.front()].push_back(text);
      continue;
    }
    std::vector<const Workload*> readers;
    std::string problems;
    for (const Workload* w : workloads) {
      try {
        w->canonical_shape(text);
        readers.push_back(w);
      } catch (const InvalidArgument& e) {
        problems += fmt::format("{}{}: {}", problems.empty() ? "" : "; ", w->name(), e.detail());
      }
    }
    if (readers.size() != 1) {
      throw InvalidArgument(
          "shapes", readers.empty()
                        ? fmt::format("'{}' is a shape of none of the workloads chosen ({})", text,
                                      problems)
                        : fmt::format("'{}' reads as a shape of several workloads chosen: choose "
                                      "one with --workloads",
                                      text));
    }
    given[readers.front()].push_back(text);
  }
  for (const Workload* w : workloads) {
    const auto mine = given.find(w);
    std::vector<std::string> texts =
        mine != given.end() ? mine->second : w->preset_shapes(o.preset);
    std::vector<std::string> seen;
    for (const std::string& text : texts) {
      const std::string shape = w->canonical_shape(text);
      if (!add_once(seen, shape)) continue;
      if (w->distributed()) {
        plan.collective_shapes.push_back(shape);
        continue;
      }
      plan.shapes.push_back({.workload = w,
                             .shape = shape,
                             .phase = w->phase(shape),
                             .counts = w->counts(shape),
                             .unit_shape = w->unit_shape(shape)});
      plan.shapes.back().unit_counts = w->counts(plan.shapes.back().unit_shape);
    }
  }
  // Under mpirun -np P the compute shapes are those split over exactly P ranks (tp=P).
  const int ranks = dist::world_size();
  for (const PlannedShape& p : plan.shapes) {
    const int split = p.workload->ranks(p.shape);
    if (split == ranks) continue;
    if (split > 1) {
      throw InvalidArgument("shapes", fmt::format("'{}': tp={} needs a run of {} ranks, and this "
                                                  "one has {} (start it with mpirun -np {})",
                                                  p.shape, split, split, ranks, split));
    }
    throw InvalidArgument(
        "workloads",
        fmt::format("{} runs in one process ('{}'), and this run has {} ranks: start it without "
                    "mpirun (or with -np 1); under mpirun only collectives and decoder shapes "
                    "with tp={} run",
                    p.workload->name(), p.shape, ranks, ranks));
  }
  for (const int t : o.threads) add_once(plan.threads, t);
  const int cores = machine_info().cores;
  if (plan.threads.empty() && ranks > 1) {
    plan.threads = {std::max(1, cores / ranks)};  // the ranks share the cores
  } else if (plan.threads.empty()) {
    plan.threads = {1};
    if (cores > 1) plan.threads.push_back(cores);
  }
  for (const std::string& b : plan.backends) {
    const BackendDescriptor& d = find_backend(b);
    for (int t : plan.threads) {
      if (d.is_multithreaded() && (t < 1 || t > d.max_threads())) {
        throw InvalidArgument(
            "threads", fmt::format("{} is out of range for backend '{}' (valid: 1..{})", t, b,
                                   d.max_threads()));
      }
    }
  }
  platform::force_target(o.simd_target);
  check_writable(o.out, "out");
  if (o.format == ResultsFormat::csv) check_writable(repetitions_path(o.out), "out");
  plan.timing = {o.repetitions, o.min_time_s};
  return plan;
}

// The serial model's T_single per shape: one unit alone on the scalar backend.
std::map<std::string, SerialBaseline> measure_serial_baselines(const RunPlan& plan,
                                                               std::ostream& out) {
  std::map<std::string, SerialBaseline> baselines;
  for (const PlannedShape& p : plan.shapes) {
    const std::string name = p.workload->name();
    const BenchSpec unit{name, p.unit_shape, "scalar", 1};
    const Measurement u = measure(unit, p.unit_counts, plan.timing);
    SerialBaseline& base = baselines[key_of(name, p.shape)];
    base.n_units = p.counts.n_units;
    if (u.status == "ok" && !u.times_s.empty()) base.t_single_s = summarize(u.times_s).median;
    fmt::print(out, "serial model: {} {} one unit ({}) = {}\n", name, p.shape, p.unit_shape,
               base.t_single_s ? fmt::format("{:.3g} s", *base.t_single_s) : u.status);
  }
  return baselines;
}

// A scalar run the serial model predicts past the budget is not run: its row says so, and the
// baseline comes from the model. Memory is the harder limit: say so when the case cannot fit.
std::optional<std::string> scalar_budget_skip(const PlannedShape& p, const SerialBaseline& base,
                                              double budget_s) {
  if (!base.t_single_s) return std::nullopt;
  const double predicted = *base.t_single_s * base.n_units;
  if (predicted <= budget_s) return std::nullopt;
  std::string reason = fmt::format(
      "skipped: predicted {:.3g} s > scalar budget {:.3g} s; baseline from the serial model",
      predicted, budget_s);
  if (const auto shortfall = memory_shortfall(p.counts, find_backend("scalar"))) {
    return "skipped: " + *shortfall;  // decided without building anything
  }
  try {
    auto scalar = make_backend("scalar");
    p.workload->make_case(*scalar, p.shape);
  } catch (const InsufficientMemory& e) {
    reason = std::string("skipped: ") + e.what();
  }
  return reason;
}

// Every (shape, backend, threads) of the plan, in the order they run (on every rank alike).
std::vector<std::pair<const PlannedShape*, BenchSpec>> planned_specs(const RunPlan& plan) {
  std::vector<std::pair<const PlannedShape*, BenchSpec>> specs;
  for (const PlannedShape& p : plan.shapes) {
    for (BenchSpec& spec :
         expand_specs(p.workload->name(), {p.shape}, plan.backends, plan.threads)) {
      specs.emplace_back(&p, std::move(spec));
    }
  }
  return specs;
}

std::vector<Measurement> run_plan(const RunPlan& plan,
                                  const std::map<std::string, SerialBaseline>& baselines,
                                  double scalar_budget_s, std::ostream& out) {
  // Every spec first, so the progress lines can count them.
  const auto todo = planned_specs(plan);
  std::vector<Measurement> measurements;
  std::string device_fault;  // the first sticky GPU error: later GPU rows cannot run
  for (std::size_t i = 0; i < todo.size(); ++i) {
    const auto& [p, spec] = todo[i];
    std::optional<std::string> skip;
    if (spec.backend == "scalar") {
      skip = scalar_budget_skip(*p, baselines.at(key_of(p->workload->name(), p->shape)),
                                scalar_budget_s);
    }
    if (!device_fault.empty() && find_backend(spec.backend).compute_class == ComputeClass::gpu) {
      skip =
          "skipped: the GPU faulted in an earlier row of this run, and its context runs "
          "nothing more (" +
          device_fault + ")";
    }
    Measurement m = skip ? unmeasured(spec, p->counts, *skip)
                         : measure(spec, p->counts, plan.timing, &device_fault);
    fmt::print(
        out, "[{}/{}] {}: {}\n", i + 1, todo.size(), benchmark_name(spec),
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
  // Both files complete before either is renamed, the results last: a kill or a full disk
  // leaves the old pair or the new one (the run_id in both lets a reader check).
  write_files_atomically(
      {{repetitions_path(o.out), repetitions_to_csv(rows)}, {o.out, to_csv(rows)}});
}

}  // namespace

namespace {

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
  return 0;
}

// The plan's specs for a run on ranks, with their counts.
std::vector<TensorParallelSpec> tensor_parallel_specs(const RunPlan& plan) {
  std::vector<TensorParallelSpec> specs;
  for (auto& [p, spec] : planned_specs(plan)) specs.push_back({std::move(spec), p->counts});
  return specs;
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
    std::vector<ResultRow> rows = measure_collectives(plan.collective_shapes, plan.timing, out);
    return finish_run(rows, o, out, err);
  }

  // The machine's ceilings.
  const std::string probe_path = o.probe_file.empty() ? default_probe_path() : o.probe_file;
  const ProbeResult probe =
      load_or_run_probe(probe_path, {.reprobe = o.reprobe, .spot_check = !o.trust_probe},
                        [&](const std::string& s) { fmt::print(out, "probe: {}\n", s); });
  fmt::print(out, "probe: {} (measured {}; {})\nmachine: {}\n", probe_cache_path(probe_path),
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
    rows = apply_models(measure_tensor_parallel(tensor_parallel_specs(plan), plan.timing, out),
                        {}, probe);
    if (o.accuracy) fmt::print(out, "accuracy: not measured on ranks (f32 weights only)\n");
  } else {
    const auto baselines = measure_serial_baselines(plan, out);
    rows = apply_models(run_plan(plan, baselines, o.scalar_budget_s, out), baselines, probe);
    if (o.accuracy) add_decoder_accuracy(rows, out);
  }
  std::vector<ResultRow> collectives =
      measure_collectives(plan.collective_shapes, plan.timing, out);
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
    plan = validate(o);
  } catch (const std::exception&) {
    if (!root) return 2;  // every rank refuses the same arguments; rank 0 says why
    throw;
  }
  if (!root) {
    dist::idle_barrier();  // rank 0 takes the output's lock and probes alone first
    measure_tensor_parallel(tensor_parallel_specs(plan), plan.timing, out);
    measure_collectives(plan.collective_shapes, plan.timing, out);
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
