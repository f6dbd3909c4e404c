#pragma once
// The machine's own peaks, measured rather than copied from a datasheet: FMA
// throughput (SIMD and scalar) per thread count, and stream bandwidth (STREAM triad and a
// read-only sum) over a sweep of working sets from L1-sized to DRAM-sized. Cached per
// machine in a JSON file.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/backend.hpp"
#include "kernels/platform.hpp"
#include "timing/probe_health.hpp"

namespace aigc {

struct BandwidthLevel {
  std::string name;                        // "16KiB", ... "1024MiB" for a measured working set
  double capacity_bytes = 0;               // the working set measured (per core when per_core)
  bool per_core = false;                   // private cache: capacity scales with threads
  std::map<int, double> bytes_per_s;       // threads -> triad bandwidth (12 B per element)
  std::map<int, double> read_bytes_per_s;  // threads -> read-only bandwidth (4 B per element)
};

struct ProbeResult {
  // 2: read-only bandwidth added. 3: the bf16 dot product's peak added. 4: the rounds' noise,
  // for the spot check. 5: working sets in steps of 2x past 16 MiB, and the int8 dot product's
  // rate. A cache of another version is measured again.
  static constexpr int kVersion = 5;
  int version = kVersion;
  std::string
      fingerprint;  // cpu model, cores, SIMD target: a cache from another machine is refused
  std::string timestamp;
  std::string simd_target;
  double scalar_flops_per_core = 0;
  std::map<int, double> simd_flops;  // threads -> FLOP/s of all threads together
  // threads -> FLOP/s of AVX512-BF16's dot product, which the bf16 GEMMs run on; empty where
  // the CPU (or a pinned narrower target) has none and bf16 runs on the fp32 FMA.
  std::map<int, double> bf16_dot_flops;
  // threads -> multiply-add ops/s (2 per byte product) of AVX512-VNNI's int8 dot product, which
  // the block formats' products run on; empty where the CPU (or a pinned narrower target)
  // has none.
  std::map<int, double> int8_dot_flops;
  std::vector<BandwidthLevel> bandwidth;  // smallest level first
  std::optional<platform::GpuPeaks> gpu;  // when a usable GPU was present
  // The largest relative spread of the rounds behind the spot-checked figures (the FMA sweep,
  // the 256 MiB triad): how far the probe disagrees with itself.
  double noise = 0;

  // Not in the cache: what took cores from this measurement (a probe with any is not cached),
  // and where the figures a run uses came from (printed with the run).
  std::vector<std::string> contention;
  std::string provenance;

  // The ceilings a backend is held to at a thread count: between two probed counts, the
  // straight line between their figures; past the probed range, the largest count's value
  // (oversubscription adds no hardware).
  // A GPU is held to its measured cuBLAS rate for the dtype ("f32" or "bf16"); a CPU's bf16
  // rows to the bf16 dot product's, where it was measured; a CPU's rows whose products may
  // run on int8 dot products (a block format that rounds activations to int8, or "file", a
  // model's matrices as stored) to the faster of that rate and the FMA's: an upper bound.
  double peak_flops(ComputeClass cls, int threads, const std::string& dtype = "f32") const;
  // The bandwidth measured at the largest swept working set <= `working_set_bytes` (the
  // smallest one below the sweep), with `threads`: an upper bound, as bandwidth only falls as
  // the working set grows. The faster of triad and read-only, the best this memory level was
  // seen to stream (reads run faster than triad's read-read-write mix, and a decode step's
  // weights are all reads).
  double peak_bytes_per_s(double working_set_bytes, int threads) const;
  // The GPU's measured device-memory bandwidth (copy, read + write); every GPU working set
  // is held to it (the L2 cache is not swept).
  double gpu_bytes_per_s() const;
  const BandwidthLevel& level_for(double working_set_bytes, int threads) const;
};

// This machine's hardware id (core/machine.hpp's make_machine_id with Highway's target and
// the GPU); the environment variable AIGCBENCH_MACHINE overrides it (sanitized).
std::string machine_id();
// What a probe cache must match to be reused: vendor, model name, CPUID family and model,
// cores, SIMD target, GPU.
std::string probe_fingerprint();

// The thread counts the probe measures on `cores` cores: 1, 2, 4, ... below it, and `cores`.
std::vector<int> probe_thread_counts(int cores);
// A figure by thread count at `threads`, as the ceilings are looked up (see ProbeResult).
double at_threads(const std::map<int, double>& by_threads, int threads);

using ProbeProgress = std::function<void(const std::string&)>;
ProbeResult run_probe(const ProbeProgress& progress = {});

std::string probe_to_json(const ProbeResult& p);
// Throws std::runtime_error naming the file on a malformed cache.
ProbeResult probe_from_json(const std::string& text, const std::string& source);

// A run's figures come from the cache unless it must measure again.
struct ProbeUse {
  bool reprobe = false;  // measure again whatever the cache holds
  // Check a cached probe first by measuring a few of its figures again (timing/probe_health:
  // FMA and the 256 MiB triad at 1 thread and every core, about a second); off by more than
  // the noise: measured again. And cache a fresh probe only when no contention was seen. Off
  // (--trust-probe, for tests on a busy machine): the cache as it is, a fresh probe cached.
  bool spot_check = true;
};

// Loads the cache at `path` when it exists, matches this machine and passes the spot check, else
// probes; a fresh probe is written (atomically) only when no contention was seen while it ran.
// The result's provenance says which happened.
ProbeResult load_or_run_probe(const std::string& path, const ProbeUse& use,
                              const ProbeProgress& progress = {});
// The spot check's figures, each beside the cached one (timing/probe_health.hpp).
std::vector<SpotFigure> spot_check(const ProbeResult& cached);

std::string default_probe_path();
// The file load_or_run_probe() uses for `path`: `path` itself for the best SIMD target, and
// `<stem>-<target>.json` beside it while --simd-target pins a narrower one (one cache per
// target, so a pinned run never replaces the best target's figures).
std::string probe_cache_path(const std::string& path);

}  // namespace aigc
