#include "driver/run_command.hpp"

#include <unistd.h>

#include <algorithm>
#include <ctime>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <fmt/ostream.h>

#include "benchmarks/runner.hpp"
#include "core/files.hpp"
#include "core/machine.hpp"
#include "core/stats.hpp"
#include "driver/summary_table.hpp"
#include "kernels/cuda/device_query.hpp"
#include "kernels/registry.hpp"
#include "kernels/simd/gemm.hpp"
#include "models/timing_models.hpp"

namespace aigc {
namespace {

struct Timing {
  int repetitions;
  double min_time_s;
};

// Times one verified case with Google Benchmark: a warm-up, then `repetitions`
// repetitions of at least `min_time_s` each; the verification run was the first warm-up.
std::vector<double> time_case(const BenchSpec& spec, ReadyCase& ready, const Timing& timing,
                              std::string& error) {
  benchmark::ClearRegisteredBenchmarks();
  auto* b = benchmark::RegisterBenchmark(
      benchmark_name(spec).c_str(), [&ready](benchmark::State& s) { run_benchmark_loop(s, ready); });
  if (uses_device_timer(*ready.backend)) {
    b->UseManualTime();  // CUDA events, set by run_benchmark_loop
  } else {
    b->UseRealTime();
  }
  b->Repetitions(timing.repetitions)
      ->MinTime(timing.min_time_s)
      ->MinWarmUpTime(std::min(0.05, timing.min_time_s));
  CollectingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::ClearRegisteredBenchmarks();
  const auto it = reporter.results().find(benchmark_name(spec));
  if (it == reporter.results().end()) {
    error = "no result from Google Benchmark";
    return {};
  }
  error = it->second.error;
  return it->second.times_s;
}

Measurement measure(const BenchSpec& spec, const Timing& timing) {
  Measurement m{.workload = spec.workload,
                .shape = spec.shape,
                .backend = spec.backend,
                .threads = spec.threads,
                .counts = find_workload(spec.workload).counts(spec.shape)};
  try {
    auto backend = make_backend(spec.backend);
    m.simd_target = backend->simd_target();
    m.compute_class = backend->compute_class();
    m.dtype = backend->dtype();
    if (const Availability av = backend->availability(); !av.available) {
      m.status = "skipped: " + av.reason;
      return m;
    }
    ReadyCase ready = make_ready_case(spec, std::move(backend));
    m.max_rel_error = ready.max_rel_error;
    if (m.compute_class == ComputeClass::gpu) {
      m.upload_s = ready.upload_s;
      m.download_s = ready.download_s;
    }
    std::string error;
    m.times_s = time_case(spec, ready, timing, error);
    if (!error.empty()) m.status = "error: " + error;
  } catch (const UnsupportedOp& e) {
    m.status = std::string("skipped: ") + e.what();
  } catch (const InsufficientMemory& e) {
    m.status = std::string("skipped: ") + e.what();
  } catch (const std::exception& e) {
    m.status = std::string("error: ") + e.what();
  }
  return m;
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
  auto config_key = [](const Measurement& m, const std::string& backend, int threads) {
    return fmt::format("{}|{}|{}|{}", m.workload, m.shape, backend, threads);
  };
  for (const Measurement& m : measurements) {
    if (!m.times_s.empty() && m.status == "ok")
      median_of[config_key(m, m.backend, m.threads)] = summarize(m.times_s).median;
  }

  std::vector<ResultRow> rows;
  for (const Measurement& m : measurements) {
    ResultRow r;
    r.workload = m.workload;
    r.shape = m.shape;
    r.phase = find_workload(m.workload).phase(m.shape);
    r.backend = m.backend;
    r.dtype = m.dtype;
    r.threads = m.threads;
    r.simd_target = m.simd_target;
    r.status = m.status;
    r.max_rel_error = m.max_rel_error;
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
      r.t_serial_model_s = models::serial_time(*r.t_single_s, m.counts.n_units);
    }
    if (const auto it = median_of.find(config_key(m, "scalar", 1)); it != median_of.end()) {
      r.baseline_time_s = it->second;
      r.baseline_source = "measured";
    } else if (r.t_serial_model_s) {
      r.baseline_time_s = r.t_serial_model_s;
      r.baseline_source = "serial_model";
    }

    // Roofline of the baseline hardware (one scalar core), for the predicted acceleration.
    const double ws = m.counts.working_set > 0 ? m.counts.working_set : m.counts.bytes;
    const auto roof_scalar = models::roofline(m.counts.flops, m.counts.bytes,
                                              probe.peak_flops(ComputeClass::scalar_core, 1),
                                              probe.peak_bytes_per_s(ws, 1));
    const ComputeClass cls = m.compute_class;
    if (cls != ComputeClass::gpu || probe.gpu) {
      r.peak_flops = probe.peak_flops(cls, m.threads, m.dtype);
      r.peak_bytes_per_s = cls == ComputeClass::gpu ? probe.gpu_bytes_per_s()
                                                    : probe.peak_bytes_per_s(ws, m.threads);
      const auto roof =
          models::roofline(m.counts.flops, m.counts.bytes, *r.peak_flops, *r.peak_bytes_per_s);
      r.t_roofline_s = roof.time_s;
      r.bound = roof.compute_bound ? "compute" : "memory";
      r.predicted_speedup = models::predicted_acceleration(roof_scalar.time_s, roof.time_s);
    }

    if (m.times_s.empty() || m.status != "ok") {
      rows.push_back(std::move(r));
      continue;
    }
    const SampleStats st = summarize(m.times_s);
    r.repetitions = st.count;
    r.time_median_s = st.median;
    r.time_min_s = st.min;
    r.time_max_s = st.max;
    r.time_cv = st.cv;
    r.achieved_flops = m.counts.flops / st.median;
    r.achieved_bytes_per_s = m.counts.bytes / st.median;
    if (m.counts.tokens > 0) r.tokens_per_s = double(m.counts.tokens) / st.median;
    if (r.baseline_time_s) {
      r.speedup_vs_scalar = models::measured_acceleration(*r.baseline_time_s, st.median);
      if (r.predicted_speedup)
        r.captured_speedup_fraction = *r.speedup_vs_scalar / *r.predicted_speedup;
    }
    if (m.backend == "scalar" && m.threads == 1 && r.t_serial_model_s) {
      r.serial_model_error = models::serial_model_error(st.median, *r.t_serial_model_s);
    }
    if (const auto it = median_of.find(config_key(m, m.backend, 1)); it != median_of.end()) {
      r.t1_s = it->second;
      r.parallel_speedup = models::parallel_speedup(it->second, st.median);
      r.parallel_efficiency = models::parallel_efficiency(it->second, st.median, m.threads);
      if (const auto kf = models::karp_flatt(*r.parallel_speedup, m.threads)) r.karp_flatt = *kf;
    }
    if (r.t_roofline_s) r.roofline_fraction = models::roofline_fraction(*r.t_roofline_s, st.median);
    rows.push_back(std::move(r));
  }
  return rows;
}

int run_command(const RunOptions& o, std::ostream& out, std::ostream& err) {
  // --- validate everything before any work ---
  std::vector<const Workload*> workloads;
  for (const std::string& w : o.workloads.empty() ? workload_names() : o.workloads) {
    workloads.push_back(&find_workload(w));
  }
  // By default every backend that can run here; one named explicitly runs or is recorded
  // as skipped with its reason.
  const std::vector<std::string> backends =
      o.backends.empty() ? available_backend_names() : o.backends;
  for (const std::string& b : backends) make_backend(b);
  if (!o.shapes.empty() && workloads.size() != 1) {
    throw InvalidArgument(
        "shapes",
        fmt::format("shapes belong to one workload: choose it with --workloads ({} are chosen)",
                    workloads.size()));
  }
  std::vector<std::string> shapes;
  for (const std::string& s : o.shapes) shapes.push_back(workloads.front()->canonical_shape(s));
  std::vector<int> threads = o.threads;
  const int cores = machine_info().cores;
  if (threads.empty()) {
    threads = {1};
    if (cores > 1) threads.push_back(cores);
  }
  for (const std::string& b : backends) {
    auto backend = make_backend(b);
    for (int t : threads) {
      if (backend->is_multithreaded()) backend->set_threads(t);  // throws naming --threads
    }
  }
  simd::force_target(o.simd_target);
  check_writable(o.out, "out");
  check_writable(repetitions_path(o.out), "out");

  // --- the machine's ceilings ---
  const std::string probe_path = o.probe_file.empty() ? default_probe_path() : o.probe_file;
  const ProbeResult probe = load_or_run_probe(
      probe_path, o.reprobe, [&](const std::string& s) { fmt::print(out, "probe: {}\n", s); });
  fmt::print(out, "probe: {} (measured {})\n", probe_path, probe.timestamp);
  if (o.backends.empty()) {
    for (const std::string& name : backend_names()) {
      if (const Availability av = make_backend(name)->availability(); !av.available)
        fmt::print(out, "not run: {} ({})\n", name, av.reason);
    }
  }

  const Timing timing{o.repetitions, o.min_time_s};
  std::vector<Measurement> measurements;
  std::map<std::string, SerialBaseline> baselines;
  for (const Workload* w : workloads) {
    const std::vector<std::string> todo = shapes.empty() ? w->preset_shapes(o.preset) : shapes;
    std::vector<BenchSpec> specs = expand_specs(w->name(), todo, backends, threads);
    for (const std::string& shape : todo) {
      // Serial model: one unit alone on the scalar backend.
      const std::string unit = w->unit_shape(shape);
      const Measurement u = measure({w->name(), unit, "scalar", 1}, timing);
      SerialBaseline& base = baselines[key_of(w->name(), shape)];
      base.n_units = w->counts(shape).n_units;
      if (u.status == "ok" && !u.times_s.empty()) base.t_single_s = summarize(u.times_s).median;
      fmt::print(out, "serial model: {} {} one unit ({}) = {}\n", w->name(), shape, unit,
                 base.t_single_s ? fmt::format("{:.3g} s", *base.t_single_s) : u.status);
    }
    int index = 0;
    for (const BenchSpec& spec : specs) {
      ++index;
      const SerialBaseline& base = baselines[key_of(spec.workload, spec.shape)];
      if (spec.backend == "scalar" && base.t_single_s) {
        const double predicted = *base.t_single_s * base.n_units;
        if (predicted > o.scalar_budget_s) {
          // Memory is the harder limit: say so when the case could not be built at all.
          std::string reason = fmt::format(
              "skipped: predicted {:.3g} s > scalar budget {:.3g} s; "
              "baseline from the serial model",
              predicted, o.scalar_budget_s);
          try {
            auto scalar = make_backend("scalar");
            w->make_case(*scalar, spec.shape);
          } catch (const InsufficientMemory& e) {
            reason = std::string("skipped: ") + e.what();
          }
          Measurement m{.workload = spec.workload,
                        .shape = spec.shape,
                        .backend = spec.backend,
                        .simd_target = "none",
                        .compute_class = ComputeClass::scalar_core,
                        .counts = w->counts(spec.shape),
                        .status = reason};
          fmt::print(out, "[{}/{}] {}: {}\n", index, specs.size(), benchmark_name(spec), m.status);
          measurements.push_back(std::move(m));
          continue;
        }
      }
      Measurement m = measure(spec, timing);
      fmt::print(out, "[{}/{}] {}: {}\n", index, specs.size(), benchmark_name(spec),
                 m.status == "ok" ? fmt::format("{:.4g} ms", 1e3 * summarize(m.times_s).median)
                                  : m.status);
      out.flush();
      measurements.push_back(std::move(m));
    }
  }

  std::vector<ResultRow> rows = apply_models(measurements, baselines, probe);
  const MachineInfo& mi = machine_info();
  const std::time_t now = std::time(nullptr);
  const std::string timestamp = fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(now));
  const std::string run_id = fmt::format("{:%Y%m%dT%H%M%SZ}-{}", fmt::gmtime(now), ::getpid());
  const std::string gpu = cuda::query_devices().name;
  for (ResultRow& r : rows) {
    r.run_id = run_id;
    r.timestamp = timestamp;
    r.host = mi.host;
    r.cpu_model = mi.cpu_model;
    r.cores = mi.cores;
    r.gpu_name = gpu;
    r.compiler = mi.compiler;
    r.build_type = mi.build_type;
  }
  std::vector<RepetitionRow> repetitions;
  for (const Measurement& m : measurements) {
    if (m.status != "ok" || m.times_s.empty()) continue;
    repetitions.push_back({run_id, m.workload, find_workload(m.workload).phase(m.shape), m.shape,
                           m.backend, m.dtype, m.threads, m.times_s});
  }
  // The repetitions first: a results file is never left beside another run's repetitions.
  write_file_atomically(repetitions_path(o.out), repetitions_to_csv(repetitions));
  write_file_atomically(o.out, to_csv(rows));
  print_summary_table(rows, out);
  fmt::print(out, "\nwrote {} rows to {} (each repetition's time in {})\n", rows.size(), o.out,
             repetitions_path(o.out));

  const auto errors = std::count_if(
      rows.begin(), rows.end(), [](const ResultRow& r) { return r.status.rfind("error", 0) == 0; });
  if (errors > 0) {
    fmt::print(err, "aigcbench: {} configuration(s) failed; see the status column\n", errors);
    return 1;
  }
  return 0;
}

}  // namespace aigc
