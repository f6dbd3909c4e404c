// Run under mpirun -np P (tests/mpi_tensor_parallel.sh): the tensor-parallel decoder's logits
// against the same model in one process, on every CPU backend, both architectures (GPT-2 with
// [in, out] weights, a grouped-query Llama with [out, in] weights and an untied output), an
// odd vocabulary (97: ranks hold unequal shares), a prefill, single-token steps and a batch of
// sequences at different positions. Every rank checks the logits it holds (all ranks hold all
// of them); any failure makes every rank's exit status non-zero.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "decoder/model.hpp"
#include "core/errors.hpp"
#include "distributed/communicator.hpp"
#include "distributed/tensor_group.hpp"
#include "kernels/registry.hpp"
#include "workloads/decoder.hpp"

namespace {

using namespace aigc;

int failures = 0;

// max |split - whole| / max |whole| against the bound of two fp32 forwards (each within
// logits_tolerance of the exact logits, so within twice that of each other).
void check(std::span<const float> split, std::span<const float> whole, double tolerance,
           const std::string& what) {
  double diff = 0, scale = 0;
  bool finite = split.size() == whole.size();
  for (std::size_t i = 0; finite && i < whole.size(); ++i) {
    finite = std::isfinite(split[i]) && std::isfinite(whole[i]);
    diff = std::max(diff, double(std::abs(split[i] - whole[i])));
    scale = std::max(scale, double(std::abs(whole[i])));
  }
  const double error = finite ? diff / scale : INFINITY;
  const bool ok = error <= 2 * tolerance;
  if (!ok) ++failures;
  if (!ok || dist::is_root()) {
    std::printf("rank %d: %s: %s (relative difference %.3g, bound %.3g)\n", dist::world_rank(),
                ok ? "ok" : "FAIL", what.c_str(), error, 2 * tolerance);
  }
}

std::vector<std::int32_t> ids(std::int64_t n, std::int64_t vocab, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::int32_t> pick(0, static_cast<std::int32_t>(vocab - 1));
  std::vector<std::int32_t> out(static_cast<std::size_t>(n));
  for (auto& id : out) id = pick(rng);
  return out;
}

// `host_group` serves the CPU backends; a GPU backend gets its own NCCL group, made before
// anything is allocated (it binds each rank to its device).
void compare(const std::string& model_name, const std::string& backend_name,
             TensorGroup& host_group) {
  const DecoderConfig c = decoder_config(model_name);
  const DecoderWeights w = random_weights(c, 11);
  auto whole_backend = make_backend(backend_name), split_backend = make_backend(backend_name);
  std::unique_ptr<TensorGroup> device_group;
  if (split_backend->compute_class() == ComputeClass::gpu) {
    try {
      device_group = dist::make_world_tensor_group(host_group.ranks(), *split_backend);
    } catch (const UnsupportedOp& e) {  // every rank alike: the fewest GPUs of any rank
      if (dist::is_root()) std::printf("skipped: %s: %s\n", model_name.c_str(), e.what());
      return;
    }
  }
  TensorGroup& group = device_group ? *device_group : host_group;
  constexpr std::int64_t kTokens = 24, kBatch = 3;
  DecoderModel whole(*whole_backend, w, kTokens, WeightFormat::f32, kBatch);
  DecoderModel split(*split_backend, w, kTokens, WeightFormat::f32, kBatch, &group);
  const std::string where = fmt::format("{} on {}, {} ranks", model_name, backend_name,
                                        group.ranks());
  whole.poison();
  split.poison();
  const double comm_before = group.communication_s();

  // A prefill, then single-token steps fed fixed tokens.
  const auto prompt = ids(9, c.vocab, 5);
  const auto w0 = whole.forward(prompt);
  const std::vector<float> whole_logits(w0.begin(), w0.end());
  check(split.forward(prompt), whole_logits, logits_tolerance(c, 9), where + ": prefill of 9");
  const auto fed = ids(4, c.vocab, 6);
  for (std::size_t s = 0; s < fed.size(); ++s) {
    const auto one = std::span(&fed[s], 1);
    const auto wl = whole.forward(one);
    const std::vector<float> expected(wl.begin(), wl.end());
    check(split.forward(one), expected, logits_tolerance(c, 10 + std::int64_t(s)),
          fmt::format("{}: decode step {}", where, s + 1));
  }

  // A batch: sequences 1 and 2 get prompts of other lengths, then every sequence takes two
  // steps together, each at its own position.
  for (std::int64_t b = 1; b < kBatch; ++b) {
    const auto p = ids(3 + 4 * b, c.vocab, 20 + std::uint64_t(b));
    whole.forward(p, true, b);
    split.forward(p, true, b);
  }
  const std::vector<std::int64_t> all{0, 1, 2};
  for (int step = 0; step < 2; ++step) {
    for (std::int64_t b = 0; b < kBatch; ++b) {  // the same token fed to both, not their argmax
      const auto token = ids(1, c.vocab, 40 + std::uint64_t(step * kBatch + b));
      whole.set_tokens(whole.position(b), token, b);
      split.set_tokens(split.position(b), token, b);
    }
    whole.decode_batch(all, true);
    split.decode_batch(all, true);
    for (std::int64_t b = 0; b < kBatch; ++b) {
      const auto wl = whole.batch_logits(b);
      const std::vector<float> expected(wl.begin(), wl.end());
      check(split.batch_logits(b), expected, logits_tolerance(c, whole.position(b)),
            fmt::format("{}: batched step {}, sequence {}", where, step + 1, b));
    }
  }
  if (group.times_communication() && !(group.communication_s() > comm_before)) {
    ++failures;
    std::printf("rank %d: FAIL: %s: no time counted in the collectives\n", dist::world_rank(),
                where.c_str());
  }
}

}  // namespace

int main() {
  const dist::MpiSession mpi;
  if (dist::world_size() < 2) {
    std::printf("start it with mpirun -np 2 (or more): this run has 1 rank\n");
    return 2;
  }
  try {
    auto host = make_backend("scalar");
    const auto group = dist::make_world_tensor_group(dist::world_size(), *host);
    for (const char* model : {"tiny", "tiny-llama"}) {
      for (const char* backend : {"scalar", "simd", "openmp", "onednn", "cuda", "cublas"}) {
        const BackendDescriptor& d = find_backend(backend);
        const auto ops = decoder_ops(decoder_config(model));
        if (const Availability av = d.availability(); !av.available) {
          if (dist::is_root()) std::printf("skipped: %s on %s: %s\n", model, backend, av.reason.c_str());
          continue;
        }
        if (!std::all_of(ops.begin(), ops.end(),
                         [&](Op op) { return d.supports(op, d.default_dtype()); })) {
          continue;  // (onednn has no rmsnorm or rope: it runs GPT-2 only)
        }
        compare(model, backend, *group);
      }
    }
  } catch (const std::exception& e) {
    std::printf("rank %d: FAIL: %s\n", dist::world_rank(), e.what());
    std::fflush(stdout);
    dist::abort_world(1);
  }
  // Every rank's verdict: a failure anywhere fails all.
  const bool any = dist::max_over_ranks(failures > 0 ? 1.0 : 0.0) > 0;
  if (dist::is_root()) std::printf("%s\n", any ? "FAILED" : "all logits agree");
  return any ? 1 : 0;
}
