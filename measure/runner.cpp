#include "measure/runner.hpp"

#include <algorithm>
#include <thread>

#include <fmt/format.h>

#include "core/energy.hpp"
#include "core/errors.hpp"
#include "core/machine.hpp"
#include "kernels/platform.hpp"
#include "kernels/registry.hpp"

namespace aigc {

std::string benchmark_name(const BenchSpec& s) {
  return fmt::format("{}/{}/{}/threads:{}", s.workload->name(), s.backend->name, s.shape.text(),
                     s.threads);
}

namespace {

std::optional<std::string> reason_not_runnable(const Workload& workload, const Shape& shape,
                                               const BackendDescriptor& d,
                                               const WorkCounts& counts) {
  if (const Availability av = d.availability(); !av.available) return av.reason;
  for (const Op op : workload.ops(shape)) {
    if (!d.supports(op, d.default_dtype())) return d.lacks(op, d.default_dtype());
  }
  for (const WeightFormat f : workload.weight_formats(shape)) {
    if (!d.takes(f)) return d.lacks(f);
  }
  return memory_shortfall(counts, d);
}

}  // namespace

BenchSpec plan_spec(const Workload& workload, const Shape& shape, const BackendDescriptor& backend,
                    int threads) {
  const std::string stored = workload.stored_dtype(shape);
  BenchSpec spec{.workload = &workload,
                 .shape = shape,
                 .backend = &backend,
                 .threads = threads,
                 .dtype = stored.empty() ? backend.default_dtype() : stored,
                 .counts = workload.counts(shape)};
  spec.not_runnable = reason_not_runnable(workload, shape, backend, spec.counts);
  return spec;
}

std::optional<std::string> memory_shortfall(const WorkCounts& w, const BackendDescriptor& d) {
  constexpr double kGiB = double(1ull << 30);
  const bool on_device = d.compute_class == ComputeClass::gpu;
  const double host_needed = w.host_bytes + (on_device ? 0.0 : w.backend_bytes);
  const AvailableMemory spare = spare_memory();
  if (host_needed > spare.bytes) {
    return fmt::format(
        "needs {:.2f} GiB of memory (inputs, outputs and the backend's copies), more than the "
        "{:.2f} GiB available ({})",
        host_needed / kGiB, spare.bytes / kGiB, spare.source);
  }
  if (!on_device) return std::nullopt;
  const double device_usable = 0.9 * platform::device_free_bytes();
  if (w.backend_bytes > device_usable) {
    return fmt::format("needs {:.2f} GiB of device memory, more than the {:.2f} GiB free",
                       w.backend_bytes / kGiB, device_usable / kGiB);
  }
  return std::nullopt;
}

std::string verification_failure(double max_rel_error, double tolerance) {
  return fmt::format("verification failed: max relative error {:.3g} > tolerance {:.3g}",
                     max_rel_error, tolerance);
}

ReadyCase make_ready_case(const BenchSpec& spec) {
  if (spec.not_runnable) throw UnsupportedOp(*spec.not_runnable);
  ReadyCase ready;
  ready.backend = spec.backend->make();
  ready.backend->set_threads(spec.threads);
  ready.counts = spec.counts;
  ready.work = spec.workload->make_case(*ready.backend, spec.shape);
  const TransferTotals set_up = ready.backend->transfers();
  ready.upload_s = set_up.upload_s;
  ready.max_rel_error = ready.work->verify();
  ready.tolerance = ready.work->tolerance();
  ready.download_s = ready.backend->transfers().download_s - set_up.download_s;
  if (!(ready.max_rel_error <= ready.work->tolerance())) {
    throw std::runtime_error(verification_failure(ready.max_rel_error, ready.work->tolerance()));
  }
  return ready;
}

void run_benchmark_loop(benchmark::State& state, ReadyCase& ready) {
  // Energy over the whole loop (the iterations and their synchronizations), from the counter
  // of the hardware the backend runs on; its per-iteration mean is the energy_J counter.
  EnergyCounter* energy = energy_counter(ready.backend->compute_class() == ComputeClass::gpu);
  const double joules_before = energy != nullptr ? energy->joules() : 0.0;
  if (ready.backend->descriptor().device_timer) {
    // GPU: the device's own clock (CUDA events) around the enqueued work; the benchmark
    // was registered with UseManualTime() by the same rule.
    const std::unique_ptr<DeviceTimer> timer = ready.backend->make_timer();
    for (auto _ : state) {
      timer->start();
      ready.work->run();
      state.SetIterationTime(timer->stop());
    }
  } else {
    for (auto _ : state) {
      ready.work->run();
      ready.backend->synchronize();
    }
  }
  using benchmark::Counter;
  if (energy != nullptr) {
    state.counters[kEnergyCounter] =
        Counter(energy->joules() - joules_before, Counter::kAvgIterations);
  }
  state.counters["FLOP/s"] = Counter(ready.counts.flops, Counter::kIsIterationInvariantRate);
  state.counters["bytes/s"] = Counter(ready.counts.bytes, Counter::kIsIterationInvariantRate);
  if (ready.counts.tokens > 0) {
    state.counters["tokens/s"] =
        Counter(double(ready.counts.tokens), Counter::kIsIterationInvariantRate);
  }
  state.counters["max_rel_error"] = ready.max_rel_error;
}

void apply_timing(benchmark::internal::Benchmark* b, const BackendDescriptor& backend,
                  const std::optional<TimingPolicy>& policy) {
  b->Unit(benchmark::kMillisecond);
  if (backend.device_timer) {
    b->UseManualTime();  // CUDA events, set by run_benchmark_loop
  } else {
    b->UseRealTime();
  }
  if (policy) {
    b->Repetitions(policy->repetitions)
        ->MinTime(policy->min_time_s)
        ->MinWarmUpTime(std::min(0.05, policy->min_time_s));
  } else {
    // The bench binaries: warm up too, so that what the first runs do once (a GPU decode
    // records its graphs on its first timed run, caches and clocks settle) is not reported.
    b->MinWarmUpTime(0.1);
  }
}

std::vector<double> time_ready_case(const BenchSpec& spec, ReadyCase& ready,
                                    const TimingPolicy& policy, std::string& error,
                                    std::vector<double>* energy_j) {
  benchmark::ClearRegisteredBenchmarks();
  auto* b =
      benchmark::RegisterBenchmark(benchmark_name(spec).c_str(),
                                   [&ready](benchmark::State& s) { run_benchmark_loop(s, ready); });
  apply_timing(b, *spec.backend, policy);
  CollectingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::ClearRegisteredBenchmarks();
  const auto it = reporter.results().find(benchmark_name(spec));
  if (it == reporter.results().end()) {
    error = "no result from Google Benchmark";
    return {};
  }
  error = it->second.error;
  if (energy_j != nullptr) *energy_j = it->second.energy_j;
  return it->second.times_s;
}

benchmark::internal::Benchmark* register_lazy_benchmark(const BenchSpec& spec) {
  auto holder = std::make_shared<std::unique_ptr<ReadyCase>>();
  auto failure = std::make_shared<std::string>();
  return benchmark::RegisterBenchmark(
      benchmark_name(spec).c_str(), [spec, holder, failure](benchmark::State& state) {
        if (!*holder && failure->empty()) {
          try {
            *holder = std::make_unique<ReadyCase>(make_ready_case(spec));
          } catch (const std::exception& e) {
            *failure = e.what();
          }
        }
        if (!failure->empty()) {
          state.SkipWithError(failure->c_str());
          for (auto _ : state) {
          }
          return;
        }
        run_benchmark_loop(state, **holder);
      });
}

void CollectingReporter::ReportRuns(const std::vector<Run>& runs) {
  for (const Run& run : runs) {
    if (run.run_type != Run::RT_Iteration) continue;
    // function_name is the registered name, without the "/repeats:N/real_time" suffixes.
    Result& r = results_[run.run_name.function_name];
    if (run.error_occurred) {
      r.error = run.error_message;
    } else if (run.iterations > 0) {
      r.times_s.push_back(run.real_accumulated_time / static_cast<double>(run.iterations));
      const auto energy = run.counters.find(kEnergyCounter);
      if (energy != run.counters.end()) r.energy_j.push_back(energy->second.value);
    }
  }
}

std::vector<BenchSpec> expand_specs(const Workload& workload, const std::vector<Shape>& shapes,
                                    const std::vector<const BackendDescriptor*>& backends,
                                    const std::vector<int>& threads) {
  std::vector<BenchSpec> specs;
  for (const Shape& shape : shapes) {
    for (const BackendDescriptor* d : backends) {
      if (!d->is_multithreaded()) {
        specs.push_back(plan_spec(workload, shape, *d, 1));
        continue;
      }
      for (const int t : threads) specs.push_back(plan_spec(workload, shape, *d, t));
    }
  }
  return specs;
}

namespace {

// One shape's configurations as benchmarks, but for a scalar one too long to time and those
// that cannot run (said on stderr).
void register_specs(const std::vector<BenchSpec>& specs, double scalar_max_flops) {
  for (const BenchSpec& spec : specs) {
    if (spec.backend->name == "scalar" && spec.counts.flops > scalar_max_flops) continue;
    if (spec.not_runnable) {
      fmt::print(stderr, "not registered: {} ({})\n", benchmark_name(spec), *spec.not_runnable);
      continue;
    }
    apply_timing(register_lazy_benchmark(spec), *spec.backend);
  }
}

}  // namespace

int benchmark_main(const std::string& workload_name, double scalar_max_flops, int argc,
                   char** argv) {
  const Workload& workload = find_workload(workload_name);
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<int> threads{1};
  if (cores > 1) threads.push_back(cores);
  std::vector<const BackendDescriptor*> available;
  for (const BackendDescriptor* d : backend_descriptors()) {
    if (const Availability av = d->availability(); !av.available) {
      fmt::print(stderr, "not registered: {} ({})\n", d->name, av.reason);
    } else {
      available.push_back(d);
    }
  }
  // The full preset plus the smoke shapes (small, for a quick check or a test). A real model's
  // shape needs its file: without it the shape is not registered (with the reason), and the
  // other benchmarks still run.
  std::vector<Shape> shapes;
  for (const Preset preset : {Preset::smoke, Preset::full}) {
    for (const std::string& text : workload.preset_shapes(preset)) {
      std::vector<BenchSpec> specs;
      try {
        const Shape shape = workload.parse(text);
        if (std::find(shapes.begin(), shapes.end(), shape) != shapes.end()) continue;
        shapes.push_back(shape);
        specs = expand_specs(workload, {shape}, available, threads);
      } catch (const InvalidArgument& e) {
        fmt::print(stderr, "not registered: {} ({})\n", text, e.what());
        continue;
      }
      register_specs(specs, scalar_max_flops);
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace aigc
