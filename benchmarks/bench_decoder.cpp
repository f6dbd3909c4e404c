// The decoder benchmark binary: one Google Benchmark per (backend, shape, threads), named
// decoder/<backend>/<shape>/threads:<n>; a prefill shape times the first token, a decode
// shape its gen steps (see workloads/decoder.hpp). All --benchmark_* flags work, e.g.
//   bench_decoder --benchmark_filter='decoder/openmp/cfg=gpt2-124m,prompt=128,gen=128'
// Each case is verified against the float64 reference before it is timed.
#include "measure/runner.hpp"

int main(int argc, char** argv) {
  // Scalar up to about 5 GFLOP per instance (GPT-2 124M: a prefill of ~30 tokens).
  return aigc::benchmark_main("decoder", 5e9, argc, argv);
}
