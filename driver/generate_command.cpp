#include "driver/generate_command.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <fmt/ranges.h>

#include "core/errors.hpp"
#include "core/machine.hpp"
#include "core/safetensors.hpp"
#include "core/stats.hpp"
#include "decoder/model.hpp"
#include "kernels/registry.hpp"
#include "workloads/decoder.hpp"
#include "workloads/workload.hpp"

namespace aigc {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::vector<std::int32_t> parse_ids(const std::vector<std::string>& texts, const DecoderConfig& c) {
  if (texts.empty()) {
    throw InvalidArgument("prompt-ids", "no token ids (give e.g. --prompt-ids 464,3290,318)");
  }
  std::vector<std::int32_t> ids;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const std::string& t = texts[i];
    long long v = 0;
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc() || end != t.data() + t.size() || v < 0 || v >= c.vocab) {
      throw InvalidArgument("prompt-ids", fmt::format("'{}' at index {} is not a token id of {} "
                                                      "(valid: 0..{})",
                                                      t, i, c.name, c.vocab - 1));
    }
    ids.push_back(static_cast<std::int32_t>(v));
  }
  if (std::int64_t(ids.size()) >= c.n_ctx) {
    throw InvalidArgument("prompt-ids", fmt::format("{} tokens leave no room to generate in {}'s "
                                                    "context of {} (valid: 1..{} tokens)",
                                                    ids.size(), c.name, c.n_ctx, c.n_ctx - 1));
  }
  return ids;
}

}  // namespace

int generate_command(const GenerateOptions& o, std::ostream& out) {
  // --- validate everything before any work ---
  const DecoderConfig config = decoder_config(o.config);
  const std::vector<std::int32_t> prompt = parse_ids(o.prompt_ids, config);
  const std::int64_t room = config.n_ctx - std::int64_t(prompt.size());
  if (o.count < 1 || o.count > room) {
    throw InvalidArgument("count",
                          fmt::format("{} is out of range: {} prompt tokens in {}'s "
                                      "context of {} leave room for 1..{}",
                                      o.count, prompt.size(), config.name, config.n_ctx, room));
  }
  const BackendDescriptor& descriptor = [&]() -> const BackendDescriptor& {
    try {
      return find_backend(o.backend);
    } catch (const InvalidArgument& e) {
      throw InvalidArgument("backend", e.detail());  // the option the user typed
    }
  }();
  if (const Availability av = descriptor.availability(); !av.available) {
    throw InvalidArgument("backend",
                          fmt::format("'{}' is unavailable here ({})", o.backend, av.reason));
  }
  for (const Op op : decoder_ops(config)) {
    if (!descriptor.supports(op, descriptor.default_dtype())) {
      throw InvalidArgument("backend",
                            fmt::format("'{}' cannot run the decoder ({})", o.backend,
                                        descriptor.lacks(op, descriptor.default_dtype())));
    }
  }
  auto backend = descriptor.make();
  if (backend->is_multithreaded()) {
    backend->set_threads(o.threads > 0 ? o.threads : machine_info().cores);
  } else if (o.threads > 1) {
    backend->set_threads(o.threads);  // throws naming --threads and the valid range
  }

  // --- load, upload, prepare (not part of the timings below) ---
  const auto setup_start = Clock::now();
  DecoderWeights weights;
  if (o.weights.empty()) {
    weights = random_weights(config, o.seed);
  } else {
    try {
      weights = load_gpt2_safetensors(o.weights, config);
    } catch (const SafetensorsError& e) {
      throw InvalidArgument("weights", e.what());
    }
  }
  const std::int64_t total = std::int64_t(prompt.size()) + o.count;
  DecoderModel model(*backend, weights, total);
  model.prepare(std::int64_t(prompt.size()), o.count);
  const double setup_s = seconds_since(setup_start);

  fmt::print(out, "model: {} ({:.1f} M parameters), weights: {}\n", config.name,
             double(config.parameters()) / 1e6,
             o.weights.empty() ? fmt::format("seeded random (seed {})", o.seed) : o.weights);
  fmt::print(out, "backend: {} ({} thread{}, target {})\n", backend->name(), backend->threads(),
             backend->threads() > 1 ? "s" : "", backend->simd_target());
  fmt::print(out, "prompt ({} tokens): {}\n", prompt.size(), fmt::join(prompt, " "));
  out.flush();

  // --- generate: the first token comes from the prefill, each next from one decode step ---
  std::vector<std::int32_t> generated;
  auto start = Clock::now();
  generated.push_back(argmax(model.forward(prompt), 0));
  const double ttft_s = seconds_since(start);
  std::vector<double> step_s;
  while (std::int64_t(generated.size()) < o.count) {
    start = Clock::now();
    generated.push_back(
        argmax(model.forward(std::span(&generated.back(), 1)), std::int64_t(generated.size())));
    step_s.push_back(seconds_since(start));
  }

  fmt::print(out, "generated ({} tokens): {}\n", generated.size(), fmt::join(generated, " "));
  fmt::print(out, "time to first token: {:.2f} ms (prefill of {} tokens: {:.1f} tokens/s)\n",
             1e3 * ttft_s, prompt.size(), double(prompt.size()) / ttft_s);
  if (!step_s.empty()) {
    const SampleStats st = summarize(step_s);
    double sum = 0;
    for (const double s : step_s) sum += s;
    fmt::print(out,
               "decode: {} steps, {:.2f} ms/token median (min {:.2f}, max {:.2f}), "
               "{:.1f} tokens/s overall\n",
               step_s.size(), 1e3 * st.median, 1e3 * st.min, 1e3 * st.max,
               double(step_s.size()) / sum);
  }
  fmt::print(out, "set-up (weights, upload, kernel preparation; not timed above): {:.2f} s\n",
             setup_s);
  return 0;
}

}  // namespace aigc
