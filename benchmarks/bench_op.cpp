// The per-op benchmark binary: every op case (layernorm, rmsnorm, add, GELU, head split and
// merge, ...) on every backend that offers it, named op/<backend>/op=<name>,<vars>/threads:<n>.
//   bench_op --benchmark_filter='op/openmp/op=rmsnorm'
// Each case is verified (float64 reference, guard regions after the outputs) before it is timed.
#include "measure/runner.hpp"

int main(int argc, char** argv) {
  // Every op is small enough for the scalar reference.
  return aigc::benchmark_main("op", 1e12, argc, argv);
}
