// The probe's cache, its look-ups, and one real measurement.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "kernels/simd/gemm_bf16.hpp"
#include "kernels/simd/gemv_int8.hpp"
#include "timing/probe.hpp"
#include "timing/probe_health.hpp"

using namespace aigc;

namespace {

ProbeResult sample_probe() {
  ProbeResult p;
  p.fingerprint = probe_fingerprint();
  p.timestamp = "2026-01-01T00:00:00Z";
  p.simd_target = "AVX3";
  p.scalar_flops_per_core = 10e9;
  p.simd_flops = {{1, 200e9}, {2, 390e9}};
  p.bandwidth = {{"32KiB", 32e3, true, {{1, 300e9}, {2, 600e9}}},
                 {"1MiB", 1e6, true, {{1, 100e9}, {2, 200e9}}},
                 {"16MiB", 16e6, false, {{1, 30e9}, {2, 40e9}}},
                 {"1GiB", 1e9, false, {{1, 15e9}, {2, 30e9}}, {{1, 18e9}}}};
  return p;
}

std::filesystem::path temp_path(const std::string& name) {
  return std::filesystem::temp_directory_path() /
         ("aigc_test_" + std::to_string(::getpid()) + "_" + name);
}

}  // namespace

TEST_CASE(
    "a working set is held to the bandwidth of the largest swept set not larger: an upper "
    "bound") {
  const ProbeResult p = sample_probe();
  CHECK(p.level_for(10e3, 1).name == "32KiB");  // below the sweep: its smallest (fastest) set
  CHECK(p.level_for(32e3, 1).name == "32KiB");
  CHECK(p.level_for(60e3, 1).name == "32KiB");  // between 32 KB and 1 MB: the faster figure
  CHECK(p.level_for(60e3, 2).name == "32KiB");
  CHECK(p.level_for(1.5e6, 1).name == "1MiB");
  CHECK(p.level_for(1.5e6, 2).name == "32KiB");  // two private 1 MB sets measured 2 MB
  CHECK(p.level_for(25e6, 1).name == "16MiB");   // fits a 32 MB L3: never the DRAM figure
  CHECK(p.level_for(5e8, 2).name == "16MiB");
  CHECK(p.level_for(1e9, 2).name == "1GiB");
  CHECK(p.level_for(1e12, 1).name == "1GiB");  // beyond the sweep: its largest set
  CHECK(p.peak_bytes_per_s(2e9, 2) == 30e9);
  CHECK(p.peak_bytes_per_s(2e9, 1) == 18e9);  // the faster of triad and read-only
  // Monotone: a larger working set never gets a higher ceiling.
  double previous = p.peak_bytes_per_s(1e3, 1);
  for (double w = 2e3; w < 1e13; w *= 1.7) {
    CHECK(p.peak_bytes_per_s(w, 1) <= previous);
    previous = p.peak_bytes_per_s(w, 1);
  }
}

TEST_CASE("the probe's peak FLOP/s depend on the backend's hardware and threads") {
  const ProbeResult p = sample_probe();
  CHECK(p.peak_flops(ComputeClass::simd_core, 1) == 200e9);
  CHECK(p.peak_flops(ComputeClass::simd_core, 2) == 390e9);
  CHECK(p.peak_flops(ComputeClass::simd_core, 8) == 390e9);  // oversubscribed: no new hardware
  CHECK(p.peak_flops(ComputeClass::scalar_core, 1) == 10e9);
  // bf16 rows: the fp32 FMA's peak where no bf16 dot product was measured, else its own.
  CHECK(p.peak_flops(ComputeClass::simd_core, 2, "bf16") == 390e9);
  ProbeResult dot = p;
  dot.bf16_dot_flops = {{1, 80e9}, {2, 160e9}};
  CHECK(dot.peak_flops(ComputeClass::simd_core, 2, "bf16") == 160e9);
  CHECK(dot.peak_flops(ComputeClass::simd_core, 2, "f32") == 390e9);
  CHECK(dot.peak_flops(ComputeClass::simd_core, 2, "q8_0") == 390e9);
  // Rows whose products may run on int8 dot products: the faster of its rate and the FMA's.
  dot.int8_dot_flops = {{1, 400e9}, {2, 800e9}};
  CHECK(dot.peak_flops(ComputeClass::simd_core, 2, "q8_0") == 800e9);
  CHECK(dot.peak_flops(ComputeClass::simd_core, 2, "q6_k") == 800e9);
  CHECK(dot.peak_flops(ComputeClass::simd_core, 2, "file") == 800e9);
  CHECK(dot.peak_flops(ComputeClass::simd_core, 2, "f16") == 390e9);
  CHECK(dot.peak_flops(ComputeClass::simd_core, 2, "q2_k") == 390e9);  // fp32 activations
  dot.int8_dot_flops = {{1, 100e9}, {2, 150e9}};
  CHECK(dot.peak_flops(ComputeClass::simd_core, 2, "q4_0") == 390e9);
}

TEST_CASE("the probe measures 1, 2, 4, ... threads and every core, and interpolates between") {
  CHECK(probe_thread_counts(1) == std::vector<int>{1});
  CHECK(probe_thread_counts(2) == std::vector<int>{1, 2});
  CHECK(probe_thread_counts(6) == std::vector<int>{1, 2, 4, 6});
  CHECK(probe_thread_counts(16) == std::vector<int>{1, 2, 4, 8, 16});
  const std::map<int, double> f{{1, 100}, {2, 200}, {4, 360}, {8, 600}};
  CHECK(at_threads(f, 1) == 100);
  CHECK(at_threads(f, 3) == 280);  // halfway from 2 to 4
  CHECK(at_threads(f, 6) == 480);
  CHECK(at_threads(f, 8) == 600);
  CHECK(at_threads(f, 12) == 600);  // past the cores: no new hardware
  CHECK(at_threads({}, 3) == 0);
}

TEST_CASE("the probe cache round-trips through JSON and is reused on the same machine") {
  const ProbeResult p = sample_probe();
  const ProbeResult q = probe_from_json(probe_to_json(p), "memory");
  CHECK(q.fingerprint == p.fingerprint);
  CHECK(q.simd_flops == p.simd_flops);
  REQUIRE(q.bandwidth.size() == 4);
  CHECK(q.bandwidth[2].bytes_per_s == p.bandwidth[2].bytes_per_s);
  CHECK(q.bandwidth[3].read_bytes_per_s == p.bandwidth[3].read_bytes_per_s);
  CHECK(q.bandwidth[0].per_core);
  CHECK(q.bf16_dot_flops.empty());
  ProbeResult dot = p;
  dot.bf16_dot_flops = {{1, 80e9}, {2, 160e9}};
  CHECK(probe_from_json(probe_to_json(dot), "memory").bf16_dot_flops == dot.bf16_dot_flops);
  dot.int8_dot_flops = {{1, 400e9}, {2, 800e9}};
  CHECK(probe_from_json(probe_to_json(dot), "memory").int8_dot_flops == dot.int8_dot_flops);
  dot.int8_dot_flops = {{1, 400e9}};  // a thread count missing: refused
  CHECK_THROWS_WITH(probe_from_json(probe_to_json(dot), "memory"),
                    Catch::Contains("int8_dot_flops lacks 2 thread(s)"));
  dot.int8_dot_flops.clear();
  dot.bf16_dot_flops = {{1, 80e9}};  // a thread count missing: refused
  CHECK_THROWS_WITH(probe_from_json(probe_to_json(dot), "gap.json"),
                    Catch::Contains("bf16_dot_flops lacks 2 thread(s)"));

  const auto path = temp_path("probe.json");
  std::ofstream(path) << probe_to_json(p);
  const ProbeResult loaded = load_or_run_probe(path.string(), {.spot_check = false});
  CHECK(loaded.timestamp == "2026-01-01T00:00:00Z");  // the cache, not a new measurement
  std::filesystem::remove(path);
}

TEST_CASE("a malformed probe cache is a clear error naming the file") {
  CHECK_THROWS_WITH(probe_from_json("{\"version\": 1}", "/x/probe.json"),
                    Catch::Contains("/x/probe.json") && Catch::Contains("--reprobe"));
  CHECK_THROWS_WITH(probe_from_json("not json", "/y.json"), Catch::Contains("/y.json"));
}

// Hidden from the per-case discovery ([.]): a timing check that another test on the other core
// can upset (a 16 KiB triad measured at DRAM speed), so ctest runs it alone (tests/CMakeLists.txt).
TEST_CASE("the probe measures positive FLOP/s and bandwidth, SIMD above scalar, caches above DRAM",
          "[.][serial]") {
  const ProbeResult p = run_probe();
  REQUIRE_FALSE(p.simd_flops.empty());
  CHECK(p.scalar_flops_per_core > 0);
  CHECK(p.simd_flops.at(1) > p.scalar_flops_per_core);
  if (simd::bf16_dot_dispatched()) {
    CHECK(p.bf16_dot_flops.at(1) > p.scalar_flops_per_core);
  } else {
    CHECK(p.bf16_dot_flops.empty());
  }
  if (simd::int8_dot_dispatched()) {  // 64 byte products an instruction: above the FMA's 16
    CHECK(p.int8_dot_flops.at(1) > p.simd_flops.at(1));
  } else {
    CHECK(p.int8_dot_flops.empty());
  }
  REQUIRE(p.bandwidth.size() == 12);  // 16 KiB to 16 MiB in steps of 4x, then 2x to 1 GiB
  for (const BandwidthLevel& level : p.bandwidth) CHECK(level.bytes_per_s.at(1) > 0);
  CHECK(p.bandwidth.front().capacity_bytes == 16 * 1024);
  CHECK(p.bandwidth.back().capacity_bytes == 1024.0 * 1024 * 1024);
  CHECK(p.bandwidth.front().bytes_per_s.at(1) > p.bandwidth.back().bytes_per_s.at(1));
}

#include "kernels/cuda/device_query.hpp"

TEST_CASE("the CUDA device query names the GPU or says why there is none") {
  const cuda::DeviceSummary s = cuda::query_devices();
  if (s.device_count == 0) {
    CHECK_FALSE(s.reason.empty());
    CHECK(s.name.empty());
  } else {
    CHECK(s.reason.empty());
    CHECK_FALSE(s.name.empty());
  }
}

TEST_CASE("a probe cache whose integers are floats or out of range is refused, not converted") {
  // Found by fuzz_probe_cache: get<int>() of 7.8e77 is undefined behaviour.
  CHECK_THROWS_WITH(probe_from_json(R"({"version": 7.8e77})", "f.json"),
                    Catch::Contains("f.json") && Catch::Contains("version is not an integer"));
  CHECK_THROWS_WITH(probe_from_json(R"({"version": 99999999999})", "g.json"),
                    Catch::Contains("out of range"));
}

TEST_CASE("a probe is refused for the cache when other work took cores or the FMA did not scale") {
  // The poisoned probe seen on an Emerald Rapids VM: a build held the other core, and the
  // 2-thread FMA peak came out at the 1-thread one.
  std::vector<std::string> why = contention_reasons({}, 175e9, 176e9, 2);
  REQUIRE(why.size() == 1);
  CHECK_THAT(why[0], Catch::Contains("did not scale") && Catch::Contains("2 threads 176.0"));
  CHECK(contention_reasons({.others_busy = 0.05, .steal = 0.01}, 172e9, 344e9, 2).empty());
  CHECK(contention_reasons({}, 100e9, 100e9, 1).empty());  // one core: nothing to scale
  why = contention_reasons({.others_busy = 0.30, .steal = 0.08}, 172e9, 344e9, 2);
  REQUIRE(why.size() == 2);
  CHECK_THAT(why[0], Catch::Contains("other processes used 30%"));
  CHECK_THAT(why[1], Catch::Contains("hypervisor took 8%"));
}

TEST_CASE("the load between two readings of the CPU times is the others' share and the steal") {
  const CpuTimes before{.busy_s = 100, .idle_s = 100, .steal_s = 0, .own_s = 10, .valid = true};
  // 10 s of two cores: 12 s busy of which 8 s ours, 2 s stolen, 6 s idle.
  const CpuTimes after{.busy_s = 112, .idle_s = 106, .steal_s = 2, .own_s = 18, .valid = true};
  const LoadDuringProbe load = load_between(before, after);
  CHECK(load.others_busy == Approx(0.2));
  CHECK(load.steal == Approx(0.1));
  CHECK(load_between(CpuTimes{}, after).others_busy == 0);  // unreadable: nothing claimed
  const CpuTimes now = read_cpu_times();
  CHECK(now.valid);  // Linux: /proc/stat
  CHECK(now.busy_s + now.idle_s > 0);
}

TEST_CASE("a spot figure is off past twice the probe's noise, and never within 25%") {
  const SpotFigure close{"FMA 2 thread(s)", 344e9, 320e9, 0.01};        // -7%
  const SpotFigure twice{"FMA 2 thread(s)", 175e9, 344e9, 0.01};        // the poisoned cache: +97%
  const SpotFigure noisy{"triad 256MiB 2 thread(s)", 20e9, 13e9, 0.2};  // -35% within 2 x 20%
  CHECK(spot_tolerance(close) == 0.25);
  CHECK(spot_tolerance(noisy) == Approx(0.4));
  CHECK_FALSE(figure_off({close, noisy}).has_value());
  const auto off = figure_off({close, twice, noisy});
  REQUIRE(off.has_value());
  CHECK(off->cached == 175e9);
  CHECK_THAT(describe(*off), Catch::Contains("344.0 GFLOP/s vs 175.0 cached (+97%, bound 25%)"));
  CHECK(figure_off({{"FMA 1 thread(s)", 0, 100e9, 0}}).has_value());  // nothing to compare
  CHECK(figure_off({{"FMA 1 thread(s)", 100e9, std::nan(""), 0}}).has_value());
}

// Hidden ([.]) like the measurement above, and run alone: it measures the machine.
TEST_CASE("a cached probe far from this machine is measured again, and says so", "[.][serial]") {
  ProbeResult far = sample_probe();
  for (auto& [t, v] : far.simd_flops) v *= 1000;  // 1000x this machine's FMA rate
  const auto path = temp_path("far-probe.json");
  std::ofstream(path) << probe_to_json(far);
  std::vector<std::string> said;
  const ProbeResult used =
      load_or_run_probe(path.string(), {}, [&](const std::string& s) { said.push_back(s); });
  CHECK(used.timestamp != far.timestamp);
  CHECK_THAT(used.provenance, Catch::StartsWith("measured now"));
  REQUIRE_FALSE(said.empty());
  CHECK_THAT(said.front(),
             Catch::Contains("the cached probe is off: ") && Catch::Contains("probing again"));
  // Trusted (--trust-probe), the same cache is used as it is.
  std::ofstream(path) << probe_to_json(far);
  const ProbeResult trusted = load_or_run_probe(path.string(), {.spot_check = false});
  CHECK(trusted.timestamp == far.timestamp);
  CHECK_THAT(trusted.provenance, Catch::Contains("--trust-probe"));
  std::filesystem::remove(path);
}
