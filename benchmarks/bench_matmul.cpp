// The matmul benchmark binary: one Google Benchmark per (backend, shape, threads),
// named matmul/<backend>/<shape>/threads:<n>. All --benchmark_* flags work, e.g.
//   bench_matmul --benchmark_filter='matmul/simd/M=1024' --benchmark_repetitions=5
// Each case is verified against the float64 reference before it is timed.
#include "measure/runner.hpp"

int main(int argc, char** argv) {
  // Scalar up to 1536^3-sized products (about 4.5 GFLOP, a couple of seconds).
  return aigc::benchmark_main("matmul", 4.5e9, argc, argv);
}
