#pragma once
// The one measurement path, shared by the benchmark binaries and the driver: turns
// (workload, shape, backend, threads) into a verified, ready case, registers it with Google
// Benchmark under one timing rule (warm-up, wall clock or the device's clock, repetitions),
// and collects the per-repetition times Google Benchmark measures.
#include <benchmark/benchmark.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/backend.hpp"
#include "workloads/workload.hpp"

namespace aigc {

// One configuration, every name resolved and the shape parsed when the plan was made
// (plan_spec): nothing on the run path looks a name up or parses a shape again.
struct BenchSpec {
  const Workload* workload = nullptr;
  Shape shape;
  const BackendDescriptor* backend = nullptr;
  int threads = 1;
  // The arithmetic the row is named by (the CSV's dtype): the weight format where it is not
  // fp32, else the backend's own ("f32"; "bf16" for cuda-bf16).
  std::string dtype;
  WorkCounts counts;  // the workload's counts of the shape
  // Why it cannot run here, decided once: the backend unavailable ("<reason>"), an op or weight
  // format it lacks ("<backend> has no <op> for <dtype>"), or the memory it needs against what
  // is available. Empty: it can.
  std::optional<std::string> not_runnable;
};

// The one place a configuration's capability is decided, before anything is built or allocated.
BenchSpec plan_spec(const Workload& workload, const Shape& shape, const BackendDescriptor& backend,
                    int threads);

// "workload/backend/shape/threads:N", the name Google Benchmark reports and filters on.
std::string benchmark_name(const BenchSpec& spec);

// "needs X GiB ..., more than the Y GiB available (<source>)" when the case's host copies plus
// (on a CPU backend) the backend's buffers exceed 3/4 of the memory available now (MemAvailable,
// the cgroup limit, ulimit -v), or a GPU backend's buffers 90% of the device's free memory.
std::optional<std::string> memory_shortfall(const WorkCounts& counts, const BackendDescriptor& d);

// A case built on its backend and verified once against the float64 reference.
struct ReadyCase {
  std::unique_ptr<Backend> backend;
  std::unique_ptr<WorkloadCase> work;
  WorkCounts counts;
  double max_rel_error = 0;
  double tolerance = 0;  // the bound max_rel_error was held to
  // Host <-> device copies outside the timed region (GPU backends; zero elsewhere): the
  // case's inputs (weights for the decoder) at set-up, and the verification run's results.
  double upload_s = 0, download_s = 0;
};

// The message of a verification whose error exceeds its tolerance (NaN: a wrong element).
std::string verification_failure(double max_rel_error, double tolerance);

// Builds and verifies a planned spec. Throws UnsupportedOp (the plan's not_runnable),
// InsufficientMemory (a path that needs more than planned), std::runtime_error (verification
// failed: the message gives the error and the tolerance).
ReadyCase make_ready_case(const BenchSpec& spec);

// How long to measure: `repetitions` of at least `min_time_s` each after a warm-up.
struct TimingPolicy {
  int repetitions = 3;
  double min_time_s = 0.1;
};

// The timed loop with FLOP/s and bytes/s counters (Google Benchmark conventions). Each
// iteration ends when the work is done: a GPU backend's events (or synchronize()) wait for it.
void run_benchmark_loop(benchmark::State& state, ReadyCase& ready);

// The one timing rule of a registration: manual time from the device's clock for a GPU
// backend, real (wall) time otherwise, milliseconds in the report; with a policy, its
// repetitions, minimum time and warm-up (a benchmark binary leaves those to its flags).
void apply_timing(benchmark::internal::Benchmark* b, const BackendDescriptor& backend,
                  const std::optional<TimingPolicy>& policy = std::nullopt);

// Registers a benchmark that builds and verifies its case on first use (so a filtered
// run pays only for what it runs) and reports a failure through SkipWithError.
benchmark::internal::Benchmark* register_lazy_benchmark(const BenchSpec& spec);

// Times one verified case under `policy` (the verification run was the first warm-up).
// Returns the per-repetition seconds; `error` gets Google Benchmark's error, if any;
// `energy_j`, when given, each repetition's joules per iteration where the hardware's energy
// counter can be read (core/energy.hpp), else nothing.
std::vector<double> time_ready_case(const BenchSpec& spec, ReadyCase& ready,
                                    const TimingPolicy& policy, std::string& error,
                                    std::vector<double>* energy_j = nullptr);

// The benchmark counter with a run's joules per iteration (where energy can be read).
inline constexpr const char* kEnergyCounter = "energy_J";

// Collects the per-repetition time of every run (seconds per iteration: wall clock, or the
// device's clock for a GPU backend, which Google Benchmark reports as the real time).
class CollectingReporter : public benchmark::BenchmarkReporter {
 public:
  struct Result {
    std::vector<double> times_s;
    std::vector<double> energy_j;  // joules per iteration, per repetition (where measured)
    std::string error;
  };
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>& runs) override;
  const std::map<std::string, Result>& results() const { return results_; }

 private:
  std::map<std::string, Result> results_;
};

// Every (backend, threads) pairing to benchmark for each shape, planned: single-threaded
// backends at 1 thread, the others at each count of `threads`.
std::vector<BenchSpec> expand_specs(const Workload& workload, const std::vector<Shape>& shapes,
                                    const std::vector<const BackendDescriptor*>& backends,
                                    const std::vector<int>& threads);

// The main() of a benchmark binary: every backend at 1 thread and all cores on the
// workload's full and smoke presets, scalar only where one instance is at most `scalar_max_flops`
// (beyond, the reference takes minutes; the driver's serial model covers it). Then
// Google Benchmark's own flag handling and run.
int benchmark_main(const std::string& workload, double scalar_max_flops, int argc, char** argv);

}  // namespace aigc
