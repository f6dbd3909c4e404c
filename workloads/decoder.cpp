#include "workloads/decoder.hpp"

#include <map>
#include <mutex>
#include <random>
#include <sstream>

#include <fmt/format.h>

#include "core/errors.hpp"
#include "decoder/gpt2_model.hpp"
#include "decoder/gpt2_reference.hpp"
#include "workloads/shape_args.hpp"

namespace aigc {

DecoderShape parse_decoder_shape(const std::string& text) {
  // cfg is the one non-integer key: take it out, range-check the rest against the model.
  std::string name, rest;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    if (item.rfind("cfg=", 0) == 0) {
      if (!name.empty())
        throw InvalidArgument("shapes", fmt::format("'{}': key 'cfg' given twice", text));
      name = item.substr(4);
    } else {
      rest += (rest.empty() ? "" : ",") + item;
    }
  }
  if (name.empty()) {
    throw InvalidArgument("shapes", fmt::format("'{}': missing key 'cfg' (a model name, e.g. "
                                                "cfg=gpt2-124m)",
                                                text));
  }
  DecoderShape s;
  try {
    s.config = gpt2_config(name);
  } catch (const InvalidArgument& e) {
    const std::string problem = std::string(e.what()).substr(e.argument().size() + 2);
    throw InvalidArgument("shapes", fmt::format("'{}': cfg: {}", text, problem));
  }
  const std::int64_t ctx = s.config.n_ctx;
  std::map<std::string, std::int64_t> v;
  try {
    v = parse_shape(rest, {{"prompt", 1, ctx},
                           {"gen", 0, ctx - 1, false, 0},
                           {"layers", 1, s.config.n_layer, false, s.config.n_layer},
                           {"logits", 0, 1, false, 1}});
  } catch (const InvalidArgument& e) {
    // Quote the shape as the user typed it, cfg included, not the part parsed here.
    std::string detail = e.detail();
    const std::string quoted = fmt::format("'{}'", rest);
    if (detail.rfind(quoted, 0) == 0)
      detail = fmt::format("'{}'{}", text, detail.substr(quoted.size()));
    if (const auto at = detail.find("(valid: prompt"); at != std::string::npos)
      detail.insert(at + 8, "cfg, ");
    throw InvalidArgument("shapes", detail);
  }
  s.prompt = v.at("prompt");
  s.gen = v.at("gen");
  s.config.n_layer = v.at("layers");
  s.logits = v.at("logits") == 1;
  if (s.prompt + s.gen > ctx) {
    throw InvalidArgument("shapes", fmt::format("'{}': prompt + gen = {} exceeds {}'s context of "
                                                "{} tokens",
                                                text, s.prompt + s.gen, name, ctx));
  }
  return s;
}

std::string format_decoder_shape(const DecoderShape& s) {
  std::string out = fmt::format("cfg={},prompt={}", s.config.name, s.prompt);
  if (s.gen > 0) out += fmt::format(",gen={}", s.gen);
  if (s.config.n_layer != gpt2_config(s.config.name).n_layer)
    out += fmt::format(",layers={}", s.config.n_layer);
  if (!s.logits) out += ",logits=0";
  return out;
}

namespace {

// Seeded random weights, made once per (model, layers) and shared by every case: GPT-2
// 124M takes a second or two to draw.
std::shared_ptr<const Gpt2Weights> shared_weights(const Gpt2Config& config) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const Gpt2Weights>> cache;
  const std::lock_guard lock(mutex);
  auto& slot = cache[fmt::format("{}/{}", config.name, config.n_layer)];
  if (!slot) slot = std::make_shared<const Gpt2Weights>(random_gpt2_weights(config, 1234));
  return slot;
}

// The float64 reference is the slow part of a verification: computed once per token
// sequence and shared by every backend that produced the same sequence.
std::vector<double> reference_logits(const Gpt2Weights& w, std::span<const std::int32_t> ids) {
  static std::mutex mutex;
  static std::map<std::string, std::vector<double>> cache;
  std::string key = fmt::format("{}/{}", w.config.name, w.config.n_layer);
  for (const std::int32_t id : ids) key += fmt::format(",{}", id);
  const std::lock_guard lock(mutex);
  if (const auto it = cache.find(key); it != cache.end()) return it->second;
  if (cache.size() >= 16) cache.clear();
  return cache[key] = gpt2_reference_logits(w, ids);
}

std::vector<std::int32_t> random_prompt(std::int64_t length, std::int64_t vocab) {
  std::mt19937_64 rng(99);
  std::uniform_int_distribution<std::int32_t> pick(0, static_cast<std::int32_t>(vocab - 1));
  std::vector<std::int32_t> ids(length);
  for (auto& id : ids) id = pick(rng);
  return ids;
}

class DecoderCase final : public WorkloadCase {
 public:
  DecoderCase(Backend& backend, const DecoderShape& s)
      : s_(s),
        weights_(shared_weights(s.config)),
        prompt_(random_prompt(s.prompt, s.config.vocab)),
        model_(backend, *weights_, s.prompt + s.gen) {
    model_.prepare(s.prompt, s.gen);
    if (s.gen == 0) return;
    // The prompt fills the cache once, untimed; its argmax is the first token fed.
    first_token_ = argmax(model_.forward(prompt_), 0);
    if (!s.logits) set_feed();
  }

  // A decode run is the gen steps alone, each fed by the previous one's argmax on the backend:
  // nothing returns to the host until the timer has stopped.
  void run() override {
    if (s_.gen == 0) {
      model_.rewind(0);
      const auto logits = model_.forward(prompt_, s_.logits);
      if (s_.logits) next_token_ = argmax(logits, 0);
      return;
    }
    model_.rewind(s_.prompt);
    model_.decode(s_.gen, s_.logits);
  }

  // Runs the phase with logits (greedy) from poisoned buffers and compares the last
  // logits with the float64 reference recomputed over the same tokens.
  double verify() override {
    std::vector<std::int32_t> fed = prompt_;
    std::vector<float> last;
    if (s_.gen == 0) {
      model_.rewind(0);
      model_.poison();
      const auto logits = model_.forward(prompt_);
      last.assign(logits.begin(), logits.end());
    } else {
      model_.rewind(s_.prompt);
      model_.set_tokens(s_.prompt, std::span(&first_token_, 1));
      model_.poison();
      model_.decode(s_.gen, true);
      // The tokens fed: the first, then every step's argmax but the last's.
      const std::vector<std::int32_t> generated = model_.tokens(s_.prompt, s_.gen + 1);
      fed.insert(fed.end(), generated.begin(), generated.end() - 1);
      const auto logits = model_.last_logits();
      last.assign(logits.begin(), logits.end());
      if (!s_.logits) set_feed();  // put back what run() feeds
    }
    return logits_relative_error(last, reference_logits(*weights_, fed));
  }

  double tolerance() const override { return gpt2_logits_tolerance(s_.config, s_.prompt + s_.gen); }

 private:
  // Without logits there is no argmax: the steps feed the first token, then prompt tokens.
  void set_feed() {
    std::vector<std::int32_t> feed(static_cast<std::size_t>(s_.gen));
    for (std::int64_t g = 0; g < s_.gen; ++g)
      feed[g] = g == 0 ? first_token_ : prompt_[g % s_.prompt];
    model_.set_tokens(s_.prompt, feed);
  }

  DecoderShape s_;
  std::shared_ptr<const Gpt2Weights> weights_;
  std::vector<std::int32_t> prompt_;
  Gpt2Model model_;
  std::int32_t first_token_ = 0, next_token_ = 0;
};

// Per token at position p (seeing p + 1 keys) through one block: the four projections
// (2 C x 12 C multiply-adds and 9 C bias adds) and attention (4 C (p + 1): scores and
// weighted values over every head). Layernorms, GELU and residuals are O(C) and left out.
double block_flops(double C, double p) { return 24 * C * C + 9 * C + 4 * C * (p + 1); }
// Parameters of one block: 12 C^2 weights and 13 C biases and gains.
double block_params(double C) { return 12 * C * C + 13 * C; }

}  // namespace

std::vector<std::string> DecoderWorkload::preset_shapes(Preset preset) const {
  switch (preset) {
    case Preset::smoke:
      return {"cfg=tiny,prompt=16", "cfg=tiny,prompt=16,gen=8"};
    case Preset::quick:
      return {"cfg=gpt2-124m,prompt=128", "cfg=gpt2-124m,prompt=128,gen=32"};
    case Preset::full:
      return {"cfg=gpt2-124m,prompt=32",          "cfg=gpt2-124m,prompt=256",
              "cfg=gpt2-124m,prompt=128,gen=128", "cfg=gpt2-124m,prompt=896,gen=128",
              "cfg=gpt2-355m,prompt=128",         "cfg=gpt2-355m,prompt=128,gen=32"};
    case Preset::gpu:  // the decode target: 128 steps of GPT-2 124M after a 128-token prompt
      return {"cfg=gpt2-124m,prompt=128", "cfg=gpt2-124m,prompt=128,gen=128"};
  }
  return {};
}

std::string DecoderWorkload::canonical_shape(const std::string& text) const {
  return format_decoder_shape(parse_decoder_shape(text));
}

std::string DecoderWorkload::phase(const std::string& shape) const {
  return parse_decoder_shape(shape).gen > 0 ? "decode" : "prefill";
}

// Minimum traffic: every weight read once per forward (prefill reads them once for all its
// tokens, each decode step once more), the KV cache read by every decode step and each new
// row written once, the output embedding read for each set of logits.
WorkCounts DecoderWorkload::counts(const std::string& shape) const {
  const DecoderShape s = parse_decoder_shape(shape);
  const double C = double(s.config.n_embd), V = double(s.config.vocab),
               n = double(s.config.n_layer);
  const double weights = 4 * n * block_params(C);
  const double head = s.logits ? 4 * V * C + 8 * C : 0;  // wte as the output matrix, ln_f
  const double head_flops = s.logits ? 2 * C * V : 0;
  WorkCounts w;
  if (s.gen == 0) {
    const double P = double(s.prompt);
    for (double p = 0; p < P; ++p) w.flops += n * block_flops(C, p);
    w.flops += head_flops;
    w.bytes = weights + head + 4 * P * C * (2 + 2 * n);  // embeddings in, K and V rows out
    w.tokens = s.prompt;
    w.n_units = s.config.n_layer * s.prompt;
  } else {
    for (std::int64_t p = s.prompt; p < s.prompt + s.gen; ++p) {
      w.flops += n * block_flops(C, double(p)) + head_flops;
      w.bytes += weights + head + 4 * C * 2 + 4 * n * 2 * C * double(p + 1);
    }
    w.tokens = s.gen;
    w.n_units = s.config.n_layer * s.gen;
  }
  // What must stay resident: the weights and the whole KV cache; it picks the bandwidth.
  w.working_set = weights + head + 4 * n * 2 * C * double(s.prompt + s.gen);
  // The weights on the host (all of them: the embeddings too) and on the backend, with the KV
  // cache, the activations of the longest step ([T, 16C] at most) and the logits.
  const double all_weights = 4.0 * double(s.config.parameters());
  const double T = double(std::max<std::int64_t>(s.prompt, 1));
  w.host_bytes = all_weights + 8 * V;
  w.backend_bytes = all_weights + 4 * n * 2 * C * double(s.prompt + s.gen) + 4 * 16 * T * C + 4 * V;
  return w;
}

std::string DecoderWorkload::unit_shape(const std::string& shape) const {
  // One block for one token, without the logits, at the phase's mean position.
  DecoderShape s = parse_decoder_shape(shape);
  const std::int64_t position = s.gen == 0 ? s.prompt / 2 : s.prompt + s.gen / 2;
  s.prompt = std::max<std::int64_t>(1, position);
  s.gen = 1;
  s.config.n_layer = 1;
  s.logits = false;
  return format_decoder_shape(s);
}

std::unique_ptr<WorkloadCase> DecoderWorkload::make_case(Backend& backend,
                                                         const std::string& shape) const {
  return std::make_unique<DecoderCase>(backend, parse_decoder_shape(shape));
}

}  // namespace aigc
