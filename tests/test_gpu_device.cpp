// The GPU backends on a device: graph recording against direct runs (bit-identical), event
// timing, and the decoder's recorded decode steps against the scalar backend. On a GPU these
// run on the real device, every GPU backend the build lists; in the emulated build
// (tests/cuda_emulation) on the emulated one; elsewhere they report themselves skipped.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "core/random.hpp"
#include "core/verify.hpp"
#include "decoder/model.hpp"
#include "kernels/registry.hpp"

using namespace aigc;

namespace {

// The available GPU backends that offer every op in `ops`.
std::vector<std::string> gpu_backends_with(const std::vector<Op>& ops) {
  std::vector<std::string> names;
  for (const BackendDescriptor* d : backend_descriptors()) {
    if (d->compute_class != ComputeClass::gpu || !d->availability().available) continue;
    if (std::all_of(ops.begin(), ops.end(),
                    [&](Op op) { return d->supports(op, d->default_dtype()); }))
      names.push_back(d->name);
  }
  return names;
}

}  // namespace

TEST_CASE("on a GPU: a recorded sequence replays to the same result, and events time it") {
  const auto names = gpu_backends_with({Op::matmul, Op::elementwise});
  if (names.empty()) {
    WARN("test skipped: " << find_backend("cuda").availability().reason);
    return;
  }
  for (const std::string& name : names) {
    INFO(name);
    auto backend = make_backend(name);
    const MatmulShape s{67, 129, 33, true};
    const auto a = random_uniform(s.M * s.K, 1), b = random_uniform(s.K * s.N, 2),
               bias = random_uniform(s.N, 3);
    Buffer da = backend->upload_new(a), db = backend->upload_new(b),
           dbias = backend->upload_new(bias);
    Buffer direct = backend->upload_new(nan_filled(s.M * s.N));
    Buffer replayed = backend->upload_new(nan_filled(s.M * s.N));
    auto matmul = backend->make_kernel(s);
    auto gelu = backend->make_kernel(ElementwiseShape{ElementwiseOp::gelu_tanh, s.M * s.N});
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
  if (!find_backend("cuda").availability().available) {
    WARN("test skipped: " << find_backend("cuda").availability().reason);
    return;
  }
  const DecoderWeights weights = random_weights(decoder_config("tiny"), 7);
  auto cuda = make_backend("cuda");
  auto scalar = make_backend("scalar");
  DecoderModel on_gpu(*cuda, weights, 16), reference(*scalar, weights, 16);
  const std::vector<std::int32_t> prompt = {3, 14, 15, 92, 65};
  on_gpu.forward(prompt);
  reference.forward(prompt);
  const double tolerance = logits_tolerance(weights.config, 16);
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
