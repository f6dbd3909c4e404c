// The attention benchmark binary: one Google Benchmark per (backend, shape, threads),
// named attention/<backend>/<shape>/threads:<n>. All --benchmark_* flags work, e.g.
//   bench_attention --benchmark_filter='attention/openmp/B=1,H=12,S=2048' --benchmark_repetitions=5
// Each case is verified against the float64 reference before it is timed.
#include "measure/runner.hpp"

int main(int argc, char** argv) {
  // Scalar up to about 10 GFLOP (12 heads at S = 2048, D = 64: a second or two).
  return aigc::benchmark_main("attention", 1e10, argc, argv);
}
