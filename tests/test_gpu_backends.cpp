// The GPU backends' own guarantees. Without a GPU: they are listed, say why they cannot
// run, and refuse work with that reason instead of crashing; the timing path they use
// (Google Benchmark's manual time, set from CUDA events) reports exactly the time given.
// With one: test_gpu_device.cpp.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "kernels/registry.hpp"
#include "measure/runner.hpp"

using namespace aigc;

namespace {

const std::vector<std::string> kGpuBackends = {"cuda-naive", "cuda-tiled", "cuda", "cuda-bf16",
                                               "cublas"};

bool have_gpu() { return find_backend("cuda").availability().available; }

}  // namespace

TEST_CASE("every GPU backend is registered and reports the GPU compute class") {
  const auto names = backend_names();
  for (const std::string& name : kGpuBackends) {
    INFO(name);
    CHECK(std::find(names.begin(), names.end(), name) != names.end());
    const BackendDescriptor& d = find_backend(name);  // asked without building one
    CHECK(d.compute_class == ComputeClass::gpu);
    CHECK_FALSE(d.is_multithreaded());
    CHECK(d.device_timer);
  }
  CHECK(find_backend("cuda-bf16").default_dtype() == "bf16");
  CHECK(find_backend("cuda-bf16").operand_rounding == std::ldexp(1.0, -8));
#if AIGC_HAVE_CUDA_BUILD
  CHECK(find_backend("cuda-bf16").ops() == std::vector<Op>{Op::matmul});
#else
  // A build without the toolkit (the sanitize preset) builds no GPU kernel: what a backend
  // offers is what its op files registered, here nothing.
  CHECK(find_backend("cuda-bf16").ops().empty());
#endif
  CHECK(find_backend("cublas").default_dtype() == "f32");
  CHECK_FALSE(find_backend("openmp").device_timer);
}

TEST_CASE("without a GPU, each GPU backend says why and refuses work with that reason") {
  if (have_gpu()) {
    WARN("test skipped: this machine has a GPU, so the no-GPU behaviour is not exercised");
    return;
  }
  const auto available = available_backend_names();
  for (const std::string& name : kGpuBackends) {
    INFO(name);
    const Availability av = find_backend(name).availability();
    CHECK_FALSE(av.available);
    CHECK_FALSE(av.reason.empty());
    CHECK(std::find(available.begin(), available.end(), name) == available.end());
    // Built with the toolkit, the backend refuses its first device call; built without, making
    // one is refused. Either way the message names it and the reason.
    CHECK_THROWS_WITH(make_backend(name)->allocate(64),
                      Catch::Contains(name) && Catch::Contains(av.reason));
    // The benchmark harness refuses it the same way, before any work.
    const Workload& matmul = find_workload("matmul");
    const BenchSpec spec = plan_spec(matmul, matmul.parse("M=8,N=8,K=8"), find_backend(name), 1);
    CHECK(spec.not_runnable == av.reason);
    CHECK_THROWS_AS(make_ready_case(spec), UnsupportedOp);
    CHECK_THROWS_WITH(make_ready_case(spec), Catch::Contains(av.reason));
  }
}

TEST_CASE("manual (device-clock) time reaches the collected repetitions unchanged") {
  // The GPU path sets each iteration's time from CUDA events; this checks that what is set
  // is what the results are made of, with a known time instead of a device.
  benchmark::ClearRegisteredBenchmarks();
  benchmark::RegisterBenchmark("manual_time_probe",
                               [](benchmark::State& state) {
                                 for (auto _ : state) state.SetIterationTime(0.0125);
                               })
      ->UseManualTime()
      ->Iterations(3)
      ->Repetitions(2);
  CollectingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::ClearRegisteredBenchmarks();
  const auto it = reporter.results().find("manual_time_probe");
  REQUIRE(it != reporter.results().end());
  REQUIRE(it->second.times_s.size() == 2);
  for (const double t : it->second.times_s) CHECK(t == Approx(0.0125).epsilon(1e-9));
}
