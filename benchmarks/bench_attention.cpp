// The attention benchmark binary: one Google Benchmark per (backend, shape, threads),
// named attention/<backend>/<shape>/threads:<n>. All --benchmark_* flags work, e.g.
//   bench_attention --benchmark_filter='attention/openmp/B=1,H=12,S=2048' --benchmark_repetitions=5
// Each case is verified against the float64 reference before it is timed.
#include <benchmark/benchmark.h>

#include <thread>

#include "benchmarks/runner.hpp"
#include "kernels/registry.hpp"

int main(int argc, char** argv) {
  using namespace aigc;
  const Workload& attention = find_workload("attention");
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<int> threads{1};
  if (cores > 1) threads.push_back(cores);
  for (const BenchSpec& spec :
       expand_specs("attention", attention.preset_shapes(Preset::full), backend_names(), threads)) {
    // The scalar reference on the largest shapes takes minutes per iteration: leave it
    // to the serial model (the driver measures one unit and scales it).
    const double flops = attention.counts(spec.shape).flops;
    if (spec.backend == "scalar" && flops > 1e10) continue;
    register_lazy_benchmark(spec)->UseRealTime()->Unit(benchmark::kMillisecond);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
