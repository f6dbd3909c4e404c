// The GPU backends' own guarantees. Without a GPU: they are listed, say why they cannot
// run, and refuse work with that reason instead of crashing; the timing path they use
// (Google Benchmark's manual time, set from CUDA events) reports exactly the time given.
// With one: graph recording, event timing and the whole decoder on the device.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "benchmarks/runner.hpp"
#include "core/random.hpp"
#include "core/verify.hpp"
#include "decoder/gpt2_model.hpp"
#include "kernels/registry.hpp"

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
    CHECK(uses_device_timer(name));
  }
  CHECK(find_backend("cuda-bf16").default_dtype() == "bf16");
  CHECK(find_backend("cuda-bf16").operand_rounding == std::ldexp(1.0, -8));
  CHECK(find_backend("cuda-bf16").ops == std::vector<Op>{Op::matmul});
  CHECK(find_backend("cublas").default_dtype() == "f32");
  CHECK_FALSE(uses_device_timer("openmp"));
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
    CHECK_THROWS_WITH(make_ready_case({"matmul", "M=8,N=8,K=8", name, 1}),
                      Catch::Contains("unavailable") && Catch::Contains(av.reason));
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

TEST_CASE("on a GPU: a recorded sequence replays to the same result, and events time it") {
  if (!have_gpu()) {
    WARN("test skipped: " << find_backend("cuda").availability().reason);
    return;
  }
  for (const char* name : {"cuda", "cublas"}) {
    INFO(name);
    auto backend = make_backend(name);
    const MatmulShape s{67, 129, 33, true};
    const auto a = random_uniform(s.M * s.K, 1), b = random_uniform(s.K * s.N, 2),
               bias = random_uniform(s.N, 3);
    Buffer da = backend->upload_new(a), db = backend->upload_new(b),
           dbias = backend->upload_new(bias);
    Buffer direct = backend->upload_new(nan_filled(s.M * s.N));
    Buffer replayed = backend->upload_new(nan_filled(s.M * s.N));
    auto matmul = backend->make_matmul(s);
    auto gelu = backend->make_elementwise({ElementwiseOp::gelu_tanh, s.M * s.N});
    matmul->run(da, db, &dbias, direct);
    gelu->run(direct, nullptr, direct);
    auto recorded = backend->record([&] {
      matmul->run(da, db, &dbias, replayed);
      gelu->run(replayed, nullptr, replayed);
    });
    REQUIRE(recorded != nullptr);
    std::vector<float> x(s.M * s.N), y(s.M * s.N);
    backend->download(replayed, y);
    CHECK(std::isnan(y[0]));  // recording does not run anything
    auto timer = backend->make_timer();
    REQUIRE(timer != nullptr);
    timer->start();
    recorded->replay();
    const double seconds = timer->stop();
    CHECK(seconds > 0);
    CHECK(seconds < 1);
    backend->download(direct, x);
    backend->download(replayed, y);
    CHECK(x == y);  // the same kernels on the same data: bit-identical
  }
}

TEST_CASE("on a GPU: the decoder's recorded decode steps give the same logits as direct runs") {
  if (!have_gpu()) {
    WARN("test skipped: " << find_backend("cuda").availability().reason);
    return;
  }
  const Gpt2Weights weights = random_gpt2_weights(gpt2_config("tiny"), 7);
  auto cuda = make_backend("cuda");
  auto scalar = make_backend("scalar");
  Gpt2Model on_gpu(*cuda, weights, 16), reference(*scalar, weights, 16);
  const std::vector<std::int32_t> prompt = {3, 14, 15, 92, 65};
  on_gpu.forward(prompt);
  reference.forward(prompt);
  const double tolerance = gpt2_logits_tolerance(weights.config, 16);
  // Pass 1 runs each step directly, pass 2 records and replays it, pass 3 replays the recording.
  for (int pass = 0; pass < 3; ++pass) {
    on_gpu.rewind(prompt.size());
    reference.rewind(prompt.size());
    std::int32_t token = 35;
    for (int i = 0; i < 5; ++i) {
      const auto got = on_gpu.forward(std::span(&token, 1));
      const std::vector<float> g(got.begin(), got.end());
      const auto want = reference.forward(std::span(&token, 1));
      double scale = 0;
      for (const float w : want) scale = std::max(scale, double(std::abs(w)));
      MaxRelativeError err;
      for (std::size_t j = 0; j < want.size(); ++j) err.add(g[j], want[j], scale);
      CHECK(err.value() <= 2 * tolerance);
      token = argmax(want, i + 1);
    }
  }
}
