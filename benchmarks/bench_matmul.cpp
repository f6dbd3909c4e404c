// The matmul benchmark binary: one Google Benchmark per (backend, shape, threads),
// named matmul/<backend>/<shape>/threads:<n>. All --benchmark_* flags work, e.g.
//   bench_matmul --benchmark_filter='matmul/simd/M=1024' --benchmark_repetitions=5
// Each case is verified against the float64 reference before it is timed.
#include <benchmark/benchmark.h>

#include <thread>

#include "benchmarks/runner.hpp"
#include "kernels/registry.hpp"

int main(int argc, char** argv) {
  using namespace aigc;
  const Workload& matmul = find_workload("matmul");
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<int> threads{1};
  if (cores > 1) threads.push_back(cores);
  for (const BenchSpec& spec :
       expand_specs("matmul", matmul.preset_shapes(Preset::full), backend_names(), threads)) {
    // The scalar reference on the largest shapes takes minutes per iteration: leave it
    // to the serial model (the driver measures one unit and scales it).
    const double flops = matmul.counts(spec.shape).flops;
    if (spec.backend == "scalar" && flops > 4.5e9) continue;
    register_lazy_benchmark(spec)->UseRealTime()->Unit(benchmark::kMillisecond);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
