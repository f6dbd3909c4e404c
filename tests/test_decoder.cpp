// The decoder, every family (GPT-2's tiny; the Llama family's tiny-llama: rope, RMSNorm,
// SwiGLU, grouped-query attention, an untied output; tiny-qwen2: llama's with QKV biases and
// rope in halves), on every backend: logits against float64 and the scalar reference after
// prefill and each decode step, the KV cache against full recomputation, the same greedy
// tokens everywhere, a file's mix of formats, checkpoints, and bad ids.
#include <unistd.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "core/errors.hpp"
#include "decoder/model.hpp"
#include "decoder/reference.hpp"
#include "decoder/stored_weights.hpp"
#include "kernels/registry.hpp"
#include "tests/backend_sweep.hpp"
#include "workloads/decoder.hpp"

using namespace aigc;

namespace {

const DecoderWeights& tiny_weights(const std::string& model = "tiny") {
  static const DecoderWeights gpt2 = random_weights(decoder_config("tiny"), 2024);
  static const DecoderWeights llama = random_weights(decoder_config("tiny-llama"), 2025);
  static const DecoderWeights qwen2 = random_weights(decoder_config("tiny-qwen2"), 2026);
  static const DecoderWeights gemma3 = random_weights(decoder_config("tiny-gemma3"), 2027);
  if (model == "tiny-qwen2") return qwen2;
  if (model == "tiny-gemma3") return gemma3;
  return model == "tiny" ? gpt2 : llama;
}

// 10 tokens and 6 steps: past tiny-gemma3's window of 8, in the prompt and every step.
const std::vector<std::int32_t> kPrompt = {5, 17, 96, 0, 42, 42, 7, 63, 88, 1};

// Whether the backend runs the model's attention (the GPU backends have no sliding window);
// warns with the reason where it does not.
bool runs_model(Backend& backend, const std::string& name, const DecoderConfig& c) {
  if (c.sliding_window == 0) return true;
  try {
    backend.make_kernel(AttentionShape{.H = c.n_head,
                                       .S = 1,
                                       .L = 1,
                                       .D = c.head_dim(),
                                       .kv_heads = c.kv_heads(),
                                       .window = c.sliding_window});
    return true;
  } catch (const UnsupportedOp& e) {
    WARN("skipping " << name << ": " << e.what());
    return false;
  }
}
constexpr int kSteps = 6;

// Prefill, then kSteps greedy decode steps; the logits after each, and the tokens.
struct Trace {
  std::vector<std::vector<float>> logits;
  std::vector<std::int32_t> tokens;  // prompt + generated
};

Trace run_greedy(Backend& backend, const DecoderWeights& w,
                 WeightFormat format = WeightFormat::f32) {
  DecoderModel model(backend, w, w.config.n_ctx, format);
  Trace trace;
  trace.tokens = kPrompt;
  auto logits = model.forward(kPrompt);
  for (int s = 0;; ++s) {
    trace.logits.emplace_back(logits.begin(), logits.end());
    if (s == kSteps) break;
    const std::int32_t next = argmax(logits, 0);
    trace.tokens.push_back(next);
    logits = model.forward(std::span(&next, 1));
  }
  return trace;
}

// Logits after the prefix of `length` tokens of the trace, recomputed in float64.
std::vector<double> reference_after(const Trace& t, std::size_t length, const DecoderWeights& w,
                                    ActivationRounding activations = ActivationRounding::none) {
  return reference_logits(w, std::span(t.tokens).first(length), activations);
}

double relative_difference(const std::vector<float>& a, const std::vector<float>& b) {
  return logits_relative_error(a, std::vector<double>(b.begin(), b.end()));
}

}  // namespace

TEST_CASE("the scalar decoder matches float64 after prefill and each decode step") {
  const std::string model = GENERATE("tiny", "tiny-llama", "tiny-qwen2", "tiny-gemma3");
  INFO(model);
  const DecoderWeights& w = tiny_weights(model);
  auto scalar = make_backend("scalar");
  const Trace t = run_greedy(*scalar, w);
  for (std::size_t s = 0; s < t.logits.size(); ++s) {
    const std::size_t length = kPrompt.size() + s;
    INFO("step " << s);
    const double err = logits_relative_error(t.logits[s], reference_after(t, length, w));
    CHECK(err <= logits_tolerance(w.config, std::int64_t(length)));
    CHECK(err > 0);  // float32 arithmetic really ran: not the reference itself
  }
}

TEST_CASE("every backend's logits match scalar and float64 after prefill and each decode step") {
  const std::string model = GENERATE("tiny", "tiny-llama", "tiny-qwen2", "tiny-gemma3");
  INFO(model);
  const DecoderWeights& w = tiny_weights(model);
  auto scalar = make_backend("scalar");
  const Trace expected = run_greedy(*scalar, w);
  for_each_backend_and_thread_count([&](Backend& backend, const std::string& name, int threads) {
    if (!runs_model(backend, name, w.config)) return;
    const Trace t = run_greedy(backend, w);
    for (std::size_t s = 0; s < t.logits.size(); ++s) {
      const std::size_t length = kPrompt.size() + s;
      const double tol = logits_tolerance(w.config, std::int64_t(length));
      INFO(name << " threads=" << threads << " step " << s << " tolerance " << tol);
      CHECK(relative_difference(t.logits[s], expected.logits[s]) <= 2 * tol);
      CHECK(logits_relative_error(t.logits[s], reference_after(t, length, w)) <= tol);
    }
    // All backends pick the same greedy tokens: the winning margins (checked below) are far
    // above the tolerance, so rounding cannot flip a choice.
    CHECK(t.tokens == expected.tokens);
  });
}

TEST_CASE("every backend computes on weights stored in every format, as float64 does on them") {
  const std::string model = GENERATE("tiny", "tiny-llama", "tiny-qwen2", "tiny-gemma3");
  const WeightFormat format = GENERATE(WeightFormat::f16, WeightFormat::bf16, WeightFormat::q8_0,
                                       WeightFormat::q4_0, WeightFormat::q4_1);
  INFO(model << " dtype=" << weight_format_name(format));
  const DecoderWeights& w = tiny_weights(model);
  // The weights the format keeps, in fp32: the reference's.
  const DecoderWeights kept = weights_as_stored(w, format);
  for_each_backend_and_thread_count([&](Backend& backend, const std::string& name, int threads) {
    if (!runs_model(backend, name, w.config)) return;
    if (!backend.descriptor().takes(format)) {
      WARN("skipping " << name << ": " << backend.descriptor().lacks(format));
      return;
    }
    const Trace t = run_greedy(backend, w, format);
    // A backend that rounds this format's activations (to bf16 or int8) is held against a
    // reference that rounds them too.
    const ActivationRounding rounding =
        backend.descriptor().operand_rounding_for(format).activations;
    for (std::size_t s = 0; s < t.logits.size(); ++s) {
      const std::size_t length = kPrompt.size() + s;
      const double tol = logits_tolerance(w.config, std::int64_t(length), format, rounding);
      INFO(name << " threads=" << threads << " step " << s << " tolerance " << tol);
      const double error =
          logits_relative_error(t.logits[s], reference_after(t, length, kept, rounding));
      CHECK(error <= tol);
      // The format is really applied: the logits are nearer the reference on the weights the
      // format keeps than the one on the weights it was given. Computing on the given weights
      // would swap the two errors (the rounding's effect against the arithmetic's), so twice is
      // margin enough; oneDNN on AMX (bf16 tiles) keeps only 5x between them.
      const double from_given = logits_relative_error(t.logits[s], reference_after(t, length, w));
      CHECK(from_given > 2 * error);
    }
  });
}

namespace {

// tiny-qwen2 as a Q4_K_M-style file would store it: Q and K in q8_0 with V in q4_0 (one fused
// QKV in two parts), each other matrix in its own format, the output in q8_0.
DecoderWeights with_file_formats(const DecoderWeights& given) {
  DecoderWeights w = given;
  const DecoderConfig& c = w.config;
  const std::int64_t C = c.n_embd, F = c.ff(), D = c.head_dim();
  const std::int64_t qk = (c.n_head + c.kv_heads()) * D, v = c.kv_heads() * D;
  auto part = [](WeightFormat f, const float* rows, std::int64_t n, std::int64_t in) {
    return StoredPart{f, n, quantize_rows(f, std::span(rows, std::size_t(n * in)), n, in)};
  };
  for (std::size_t i = 0; i < w.layers.size(); ++i) {
    const LayerWeights& l = w.layers[i];
    w.stored[stored_name(i, "qkv")] = {{part(WeightFormat::q8_0, l.qkv.data(), qk, C),
                                        part(WeightFormat::q4_0, l.qkv.data() + qk * C, v, C)}};
    w.stored[stored_name(i, "attn_out")] = {{part(WeightFormat::q4_1, l.attn_out.data(), C, C)}};
    w.stored[stored_name(i, "gate")] = {{part(WeightFormat::q4_0, l.gate.data(), F, C)}};
    w.stored[stored_name(i, "up")] = {{part(WeightFormat::q8_0, l.up.data(), F, C)}};
    w.stored[stored_name(i, "down")] = {{part(WeightFormat::q4_1, l.down.data(), C, F)}};
  }
  w.stored["output"] = {{part(WeightFormat::q8_0, w.output.data(), c.vocab, C)}};
  return w;
}

}  // namespace

TEST_CASE("dtype=file computes each matrix in the format the file stores it in, parts and all") {
  const DecoderWeights w = with_file_formats(tiny_weights("tiny-qwen2"));
  const ModelDtype file = ModelDtype::file();
  const std::set<WeightFormat> formats = formats_of(w, file);
  CHECK(formats == std::set<WeightFormat>{WeightFormat::f32, WeightFormat::q8_0, WeightFormat::q4_0,
                                          WeightFormat::q4_1});
  const DecoderWeights kept = weights_as_stored(w, file);
  for_each_backend_and_thread_count([&](Backend& backend, const std::string& name, int threads) {
    // Every format of the file on this backend, its activations rounded one way (the
    // reference rounds every product's alike).
    const BackendDescriptor& d = backend.descriptor();
    std::set<ActivationRounding> roundings;
    for (const WeightFormat f : formats) {
      if (!d.takes(f)) {
        WARN("skipping " << name << ": " << d.lacks(f));
        return;
      }
      if (f != WeightFormat::f32) roundings.insert(d.operand_rounding_for(f).activations);
    }
    REQUIRE(roundings.size() == 1);
    const ActivationRounding rounding = *roundings.begin();
    DecoderModel model(backend, w, w.config.n_ctx, file);
    CHECK(model.dtype() == file);
    model.poison();
    auto logits = model.forward(kPrompt);
    std::vector<std::int32_t> seq = kPrompt;
    for (int s = 0;; ++s) {
      const double tol = logits_tolerance(w.config, std::int64_t(seq.size()), file, rounding);
      const double error = logits_relative_error(logits, reference_logits(kept, seq, rounding));
      INFO(name << " threads=" << threads << " step " << s << ": error " << error << ", tolerance "
                << tol);
      CHECK(error <= tol);
      // Stored as the file says, not as f32: nearer the kept weights' reference than the given.
      CHECK(logits_relative_error(logits, reference_logits(w, seq)) > 2 * error);
      if (s == 3) break;
      seq.push_back(argmax(logits, s));
      logits = model.forward(std::span(&seq.back(), 1));
    }
  });
}

TEST_CASE("rope in halves, permuted to pairs on load, turns Q and K as Hugging Face's does") {
  // A head of D = 8: rotate_half's rotation of x (pairs i, i + 4) at position p equals our
  // pairs rotation of the permuted x, permuted back.
  const std::int64_t D = 8, p = 3;
  const std::vector<double> x = {0.3, -1.2, 0.7, 2.0, -0.4, 1.1, -0.9, 0.5};
  auto angle = [&](std::int64_t i) { return double(p) * std::pow(10000.0, -2.0 * i / D); };
  std::vector<double> halves(D);
  for (std::int64_t i = 0; i < D / 2; ++i) {
    const double c = std::cos(angle(i)), s = std::sin(angle(i));
    halves[i] = x[i] * c - x[i + D / 2] * s;
    halves[i + D / 2] = x[i + D / 2] * c + x[i] * s;
  }
  std::vector<double> pairs = permute_rope_rows(x, 1, D, 1, /*to_pairs=*/true);
  for (std::int64_t i = 0; i < D / 2; ++i) {
    const double c = std::cos(angle(i)), s = std::sin(angle(i)), a = pairs[2 * i],
                 b = pairs[2 * i + 1];
    pairs[2 * i] = a * c - b * s;
    pairs[2 * i + 1] = a * s + b * c;
  }
  const std::vector<double> back = permute_rope_rows(pairs, 1, D, 1, /*to_pairs=*/false);
  for (std::int64_t i = 0; i < D; ++i) CHECK(back[i] == Approx(halves[i]).epsilon(1e-12));
  CHECK(pairs != halves);  // the layouts do differ
}

TEST_CASE("a weight format that the model's widths do not fit is refused by name") {
  DecoderConfig c = decoder_config("tiny");
  c.n_embd = 48;  // 4 heads of 12: no whole 32-weight blocks along a row
  const DecoderWeights w = random_weights(c, 3);
  auto scalar = make_backend("scalar");
  CHECK_THROWS_WITH(DecoderModel(*scalar, w, 16, WeightFormat::q8_0),
                    "dtype: q8_0 weights come in blocks of 32 along a row, and tiny's width "
                    "n_embd 48 is not a multiple of it (valid here: f32, f16, bf16)");
  CHECK_NOTHROW(DecoderModel(*scalar, w, 16, WeightFormat::bf16));
}

TEST_CASE("greedy decoding on the backend (argmax fed to the next step) picks the host's tokens") {
  const std::string model = GENERATE("tiny", "tiny-llama", "tiny-qwen2", "tiny-gemma3");
  INFO(model);
  const DecoderWeights& w = tiny_weights(model);
  auto scalar = make_backend("scalar");
  const Trace expected = run_greedy(*scalar, w);
  for_each_backend_and_thread_count([&](Backend& backend, const std::string& name, int threads) {
    if (!runs_model(backend, name, w.config)) return;
    INFO(name << " threads=" << threads);
    DecoderModel model(backend, w, 32);
    model.forward(kPrompt);
    const auto P = std::int64_t(kPrompt.size());
    // Twice: the second pass replays what the first recorded (a CUDA graph per position).
    for (int pass = 0; pass < 2; ++pass) {
      INFO("pass " << pass);
      model.rewind(P);
      model.poison();
      model.decode(kSteps, true);
      CHECK(model.position() == P + kSteps);
      // The first token (the prompt's argmax), then one per step but the last's.
      const std::vector<std::int32_t> got = model.tokens(P, kSteps);
      CHECK(std::equal(got.begin(), got.end(), expected.tokens.begin() + P));
      const auto logits = model.last_logits();
      CHECK(relative_difference(std::vector<float>(logits.begin(), logits.end()),
                                expected.logits[kSteps]) <=
            2 * logits_tolerance(w.config, P + kSteps));
    }
    CHECK_THROWS_WITH(model.decode(32, true),
                      Catch::Contains("gen") && Catch::Contains("valid: 0..16"));
  });
}

TEST_CASE("a non-finite logit in a backend-side decode is an error naming the position") {
  DecoderWeights broken = tiny_weights();
  // A huge final-layernorm gain overflows the logits to infinity at every step.
  std::fill(broken.final_norm.begin(), broken.final_norm.end(), 3e38f);
  auto backend = make_backend("simd");
  DecoderModel model(*backend, broken, 32);
  model.forward(kPrompt);
  model.decode(3, true);
  CHECK_THROWS_WITH(model.tokens(std::int64_t(kPrompt.size()), 4),
                    Catch::Contains("position 10") && Catch::Contains("non-finite"));
}

TEST_CASE("the greedy choices of the test sequence win by far more than the tolerance") {
  // Makes the test above meaningful: if a winner led by less than the rounding bound,
  // different backends could legitimately pick different tokens.
  auto scalar = make_backend("scalar");
  const Trace t = run_greedy(*scalar, tiny_weights());
  for (const auto& logits : t.logits) {
    std::vector<float> sorted = logits;
    std::partial_sort(sorted.begin(), sorted.begin() + 2, sorted.end(), std::greater<>());
    const double scale = std::max(std::abs(sorted.front()), std::abs(sorted.back()));
    const double tol = logits_tolerance(tiny_weights().config, tiny_weights().config.n_ctx);
    CHECK((sorted[0] - sorted[1]) / scale > 4 * tol);
  }
}

TEST_CASE("a batched decode step gives each sequence the logits it gets alone, on every backend") {
  const std::string model = GENERATE("tiny", "tiny-llama", "tiny-qwen2", "tiny-gemma3");
  const WeightFormat format = GENERATE(WeightFormat::f32, WeightFormat::bf16, WeightFormat::q8_0);
  INFO(model << " dtype=" << weight_format_name(format));
  const DecoderWeights& w = tiny_weights(model);
  // Six sequences with prompts of different lengths; sequence 1 leaves the batch after one
  // step and sequence 3 after two, so the steps run 6, 5 and 4 rows (the GEMM path, then the
  // matrix-vector path of a decode step).
  const std::vector<std::size_t> lengths = {10, 3, 7, 1, 5, 8};
  const std::vector<int> steps = {3, 1, 3, 2, 3, 3};
  std::vector<std::vector<std::int32_t>> prompts;
  for (std::size_t s = 0; s < lengths.size(); ++s) {
    std::vector<std::int32_t> p(kPrompt.begin(), kPrompt.begin() + lengths[s]);
    std::rotate(p.begin(), p.begin() + s % p.size(), p.end());  // not prefixes of each other
    prompts.push_back(p);
  }
  for_each_backend_and_thread_count([&](Backend& backend, const std::string& name, int threads) {
    if (!runs_model(backend, name, w.config)) return;
    if (!backend.descriptor().takes(format)) {
      WARN("skipping " << name << ": " << backend.descriptor().lacks(format));
      return;
    }
    INFO(name << " threads=" << threads);
    const ActivationRounding rounding =
        backend.descriptor().operand_rounding_for(format).activations;
    // Each sequence alone: prefill, then greedy steps; the logits after each.
    std::vector<std::vector<std::vector<float>>> alone(prompts.size());
    std::vector<std::vector<std::int32_t>> alone_tokens(prompts.size());
    for (std::size_t s = 0; s < prompts.size(); ++s) {
      DecoderModel single(backend, w, 16, format);
      auto logits = single.forward(prompts[s]);
      for (int g = 0;; ++g) {
        alone[s].emplace_back(logits.begin(), logits.end());
        const std::int32_t next = argmax(logits, g);
        alone_tokens[s].push_back(next);
        if (g == steps[s]) break;
        logits = single.forward(std::span(&next, 1));
      }
    }
    DecoderModel batched(backend, w, 16, format, std::int64_t(prompts.size()));
    batched.poison();
    for (std::size_t s = 0; s < prompts.size(); ++s)
      batched.forward(prompts[s], true, std::int64_t(s));
    for (int g = 0; g < 3; ++g) {
      std::vector<std::int64_t> active;
      for (std::size_t s = 0; s < prompts.size(); ++s) {
        if (g < steps[s]) active.push_back(std::int64_t(s));
      }
      batched.decode_batch(active, /*greedy=*/true);
      for (std::size_t i = 0; i < active.size(); ++i) {
        const std::size_t s = static_cast<std::size_t>(active[i]);
        const std::int64_t length = std::int64_t(prompts[s].size()) + g + 1;
        CHECK(batched.position(active[i]) == length);
        // Both within the tolerance of the exact logits: within twice it of each other.
        const double tol = 2 * logits_tolerance(w.config, length, format, rounding);
        const auto got = batched.batch_logits(std::int64_t(i));
        const std::vector<double> expected(alone[s][g + 1].begin(), alone[s][g + 1].end());
        const double error = logits_relative_error(got, expected);
        INFO("step " << g << " of " << active.size() << " rows, sequence " << s << ": error "
                     << error << ", tolerance " << tol);
        CHECK(error <= tol);
      }
    }
    // The greedy tokens each sequence chose in the batch are those it chose alone.
    for (std::size_t s = 0; s < prompts.size(); ++s) {
      INFO("sequence " << s);
      const auto got =
          batched.tokens(std::int64_t(prompts[s].size()), steps[s] + 1, std::int64_t(s));
      CHECK(got == alone_tokens[s]);
    }
  });
}

TEST_CASE("a batch refuses bad sizes and bad sequences by name, before allocating") {
  auto backend = make_backend("simd");
  const DecoderWeights& w = tiny_weights();
  CHECK_THROWS_WITH(DecoderModel(*backend, w, 16, WeightFormat::f32, 0),
                    Catch::Contains("batch") && Catch::Contains("valid: 1..4096"));
  // A batch whose KV caches could never fit (a Llama-family model has no position table, so a
  // long context costs nothing but the caches): refused naming the bytes, nothing allocated.
  DecoderConfig long_context = decoder_config("tiny-llama");
  long_context.n_ctx = std::int64_t{1} << 24;
  const DecoderWeights llama = random_weights(long_context, 7);
  CHECK_THROWS_WITH(DecoderModel(*backend, llama, long_context.n_ctx, WeightFormat::f32, 4096),
                    Catch::Contains("the KV caches of batch=4096") && Catch::Contains("GiB"));
  DecoderModel model(*backend, w, 8, WeightFormat::f32, 3);
  const std::vector<std::int32_t> prompt = {1, 2, 3};
  model.forward(prompt, true, 0);
  model.forward(prompt, true, 2);
  const std::vector<std::int64_t> empty_cache = {0, 1};
  CHECK_THROWS_WITH(
      model.decode_batch(empty_cache, true),
      Catch::Contains("sequences") && Catch::Contains("sequence 1 has an empty cache"));
  const std::vector<std::int64_t> twice = {0, 0};
  CHECK_THROWS_WITH(model.decode_batch(twice, true), Catch::Contains("named twice"));
  const std::vector<std::int64_t> outside = {0, 3};
  CHECK_THROWS_WITH(model.decode_batch(outside, true),
                    Catch::Contains("sequence 3 is out of range (valid: 0..2)"));
  CHECK_THROWS_WITH(model.decode_batch({}, true), Catch::Contains("no sequences"));
  CHECK_THROWS_WITH(model.forward(prompt, true, 5), Catch::Contains("valid: 0..2"));
  // A full cache: 8 positions.
  const std::vector<std::int32_t> five = {1, 2, 3, 4, 5};
  model.forward(five, true, 0);
  const std::vector<std::int64_t> full = {0};
  CHECK_THROWS_WITH(model.decode_batch(full, true),
                    Catch::Contains("fills its cache's 8 positions"));
  CHECK(model.position(2) == 3);  // the refusals ran nothing
}

TEST_CASE("decoding with the KV cache equals recomputing the whole sequence without it") {
  for_each_backend_and_thread_count([&](Backend& backend, const std::string& name, int threads) {
    const Trace t = run_greedy(backend, tiny_weights());
    for (std::size_t s = 1; s < t.logits.size(); ++s) {
      const std::size_t length = kPrompt.size() + s;
      INFO(name << " threads=" << threads << " step " << s);
      DecoderModel fresh(backend, tiny_weights(), tiny_weights().config.n_ctx);
      const auto full = fresh.forward(std::span(t.tokens).first(length));
      const std::vector<float> recomputed(full.begin(), full.end());
      CHECK(relative_difference(t.logits[s], recomputed) <=
            2 * logits_tolerance(tiny_weights().config, std::int64_t(length)));
    }
  });
}

TEST_CASE(
    "the float64 reference from a cache's keys and values equals it over the whole sequence") {
  const std::string model = GENERATE("tiny", "tiny-llama", "tiny-qwen2", "tiny-gemma3");
  INFO(model);
  const DecoderWeights& w = tiny_weights(model);
  auto scalar = make_backend("scalar");
  const Trace t = run_greedy(*scalar, w);
  // The cache after the prompt's first 9 tokens (past tiny-gemma3's window of 8), then the
  // rest of the trace's tokens on top of it.
  constexpr std::int64_t kDepth = 9;
  DecoderModel filled(*scalar, w, w.config.n_ctx);
  filled.forward(std::span(t.tokens).first(kDepth));
  ReferencePrefix prefix{kDepth, {}, {}};
  for (std::int64_t i = 0; i < w.config.n_layer; ++i) {
    auto rows = filled.cached_rows(i, kDepth);
    prefix.keys.push_back(std::move(rows.keys));
    prefix.values.push_back(std::move(rows.values));
  }
  const auto rest = std::span(t.tokens).subspan(kDepth);
  const std::vector<double> from_cache = reference_logits(w, rest, {}, prefix);
  const std::vector<double> whole = reference_logits(w, t.tokens);
  const std::vector<float> narrowed(from_cache.begin(), from_cache.end());
  // The prefix is float32 (the backend's cache): within the float32 forward's bound, and not
  // the same numbers (the keys really came from the cache).
  const double err = logits_relative_error(narrowed, whole);
  CHECK(err <= logits_tolerance(w.config, std::int64_t(t.tokens.size())));
  CHECK(err > 0);
  CHECK_THROWS_WITH(filled.cached_rows(0, kDepth + 1), Catch::Contains("out of range"));
  prefix.keys.pop_back();
  CHECK_THROWS_AS(reference_logits(w, rest, {}, prefix), std::invalid_argument);
}

TEST_CASE("a decoder shape at depth fills its cache untimed and verifies the timed tokens") {
  const std::string model = GENERATE("tiny", "tiny-llama", "tiny-gemma3");
  const DecoderWorkload workload;
  for_each_backend_and_thread_count([&](Backend& backend, const std::string& name, int threads) {
    if (!runs_model(backend, name, decoder_config(model))) return;
    for (const std::string rest :
         {",prompt=6,depth=12", ",prompt=6,gen=4,depth=12", ",prompt=5,gen=3,depth=20,batch=3"}) {
      const Shape shape = workload.parse("cfg=" + model + rest);
      INFO(name << " threads=" << threads << " " << shape.text());
      auto work = workload.make_case(backend, shape);
      const double err = work->verify();
      CHECK(err <= work->tolerance());
      CHECK(err > 0);
      CHECK_NOTHROW(work->run());
      CHECK(work->verify() <= work->tolerance());  // a run left the state a verification needs
    }
  });
}

TEST_CASE("depth is a shape key: in the text, within the context, and windows in the counts") {
  const DecoderWorkload w;
  CHECK(w.parse("cfg=tiny,depth=8,prompt=4,gen=2").text() == "cfg=tiny,prompt=4,gen=2,depth=8");
  CHECK(w.parse("cfg=tiny,prompt=4,depth=0").text() == "cfg=tiny,prompt=4");
  CHECK_THROWS_WITH(w.parse("cfg=tiny,prompt=8,gen=4,depth=60"),
                    Catch::Contains("depth + prompt + gen = 72 exceeds tiny's context of 64"));
  CHECK_THROWS_WITH(w.parse("cfg=tiny-llama,prompt=8,depth=4,tp=2"),
                    Catch::Contains("tp=2 runs at depth=0 only"));
  // A decode step reads each layer's cache as far back as the layer looks: 10 more positions
  // add 10 keys per global layer of tiny-gemma3 and none per local one (window 8).
  const DecoderConfig c = decoder_config("tiny-gemma3");
  std::int64_t global = 0;
  for (std::int64_t i = 0; i < c.n_layer; ++i) global += c.is_local(i) ? 0 : 1;
  REQUIRE(global > 0);
  REQUIRE(global < c.n_layer);
  const WorkCounts near = w.counts(w.parse("cfg=tiny-gemma3,prompt=4,gen=1,depth=20"));
  const WorkCounts far = w.counts(w.parse("cfg=tiny-gemma3,prompt=4,gen=1,depth=30"));
  CHECK(far.flops - near.flops == Approx(4.0 * double(c.attention_width()) * 10 * global));
  CHECK(far.bytes - near.bytes == Approx(8.0 * double(c.kv_heads() * c.head_dim()) * 10 * global));
  // A prefill at depth reads the depth's cache rows.
  CHECK(w.counts(w.parse("cfg=tiny,prompt=4,depth=8")).bytes >
        w.counts(w.parse("cfg=tiny,prompt=4")).bytes);
}

TEST_CASE(
    "a KV cache in f16 or q8_0 verifies against float64 rounding each row as the cache does") {
  const DecoderWorkload workload;
  for_each_backend_and_thread_count([&](Backend& backend, const std::string& name, int threads) {
    // tiny and tiny-llama: heads of 16 (f16 only); tiny-gemma3: heads of 32, a window of 8.
    for (const std::string shape :
         {"cfg=tiny,prompt=6,gen=4,kv=f16", "cfg=tiny-llama,prompt=9,kv=f16",
          "cfg=tiny-llama,prompt=5,gen=3,depth=12,batch=3,kv=f16",
          "cfg=tiny-gemma3,prompt=12,kv=q8_0", "cfg=tiny-gemma3,prompt=6,gen=4,depth=10,kv=q8_0",
          "cfg=tiny-gemma3,prompt=5,gen=3,batch=3,kv=q8_0",
          "cfg=tiny-gemma3,prompt=5,gen=3,batch=2,kv=f16"}) {
      INFO(name << " threads=" << threads << " " << shape);
      std::unique_ptr<WorkloadCase> work;
      try {
        work = workload.make_case(backend, workload.parse(shape));
      } catch (const UnsupportedOp& e) {
        WARN("skipping " << name << ": " << e.what());
        continue;
      }
      const double err = work->verify();
      CHECK(err <= work->tolerance());
      CHECK(err > 0);
      CHECK_NOTHROW(work->run());
    }
  });
  // The cache's rounding is real: an f32 cache's logits differ from a q8_0 cache's by more
  // than the f32 bound.
  auto scalar = make_backend("scalar");
  const DecoderWeights& w = tiny_weights("tiny-gemma3");
  DecoderModel f32(*scalar, w, 32),
      q8(*scalar, w, 32, WeightFormat::f32, 1, nullptr, WeightFormat::q8_0);
  const auto a = f32.forward(kPrompt);
  const std::vector<float> exact(a.begin(), a.end());
  const auto b = q8.forward(kPrompt);
  CHECK(relative_difference(std::vector<float>(b.begin(), b.end()), exact) >
        logits_tolerance(w.config, std::int64_t(kPrompt.size())));
  // Refused by name: a format that is not a cache's, a head size its blocks do not fit.
  CHECK_THROWS_WITH(workload.parse("cfg=tiny,prompt=4,kv=q4_0"),
                    Catch::Contains("kv: 'q4_0' is not a KV cache format (valid: f32, f16, q8_0)"));
  CHECK_THROWS_WITH(workload.parse("cfg=tiny,prompt=4,kv=q8_0"),
                    Catch::Contains("kv: 16 is not a multiple of 32"));
  CHECK(workload.parse("cfg=tiny-gemma3,kv=q8_0,prompt=4").text() ==
        "cfg=tiny-gemma3,prompt=4,kv=q8_0");
  CHECK_THROWS_AS(
      DecoderModel(*scalar, tiny_weights(), 8, WeightFormat::f32, 1, nullptr, WeightFormat::q8_0),
      InvalidArgument);
}

TEST_CASE("rewinding the cache repeats a decode step exactly") {
  auto backend = make_backend("openmp");
  backend->set_threads(2);
  DecoderModel model(*backend, tiny_weights(), 32);
  model.forward(kPrompt);
  const std::int32_t token = 3;
  const auto first = model.forward(std::span(&token, 1));
  const std::vector<float> once(first.begin(), first.end());
  model.rewind(std::int64_t(kPrompt.size()));
  const auto again = model.forward(std::span(&token, 1));
  CHECK(std::equal(once.begin(), once.end(), again.begin()));
  CHECK(model.position() == std::int64_t(kPrompt.size()) + 1);
}

TEST_CASE("a checkpoint file gives exactly the logits of the same weights set directly") {
  const auto path = std::filesystem::temp_directory_path() /
                    ("aigc_decoder_" + std::to_string(::getpid()) + ".safetensors");
  save_gpt2_safetensors(path.string(), tiny_weights());
  const DecoderWeights loaded = load_gpt2_safetensors(path.string(), tiny_weights().config);
  std::filesystem::remove(path);
  for (const char* name : {"scalar", "openmp", "onednn"}) {
    INFO(name);
    auto backend = make_backend(name);
    DecoderModel direct(*backend, tiny_weights(), 16), from_file(*backend, loaded, 16);
    const auto a = direct.forward(kPrompt);
    const auto b = from_file.forward(kPrompt);
    CHECK(std::equal(a.begin(), a.end(), b.begin()));
  }
}

TEST_CASE("bad token ids and prompts longer than the context are refused by name") {
  auto backend = make_backend("scalar");
  DecoderModel model(*backend, tiny_weights(), 12);
  const std::vector<std::int32_t> negative = {1, -3};
  CHECK_THROWS_WITH(model.forward(negative), Catch::Contains("prompt-ids") &&
                                                 Catch::Contains("id -3 at index 1") &&
                                                 Catch::Contains("0..96"));
  const std::vector<std::int32_t> too_big = {97};
  CHECK_THROWS_WITH(model.forward(too_big), Catch::Contains("id 97") && Catch::Contains("0..96"));
  CHECK_THROWS_WITH(model.forward({}),
                    Catch::Contains("prompt-ids") && Catch::Contains("no tokens"));
  const std::vector<std::int32_t> too_long(13, 1);
  CHECK_THROWS_WITH(model.forward(too_long), Catch::Contains("prompt-ids") &&
                                                 Catch::Contains("13 tokens") &&
                                                 Catch::Contains("12 positions"));
  CHECK(model.position() == 0);  // nothing ran, nothing was cached
  CHECK_THROWS_AS(DecoderModel(*backend, tiny_weights(), 65), InvalidArgument);  // n_ctx is 64
}

TEST_CASE("the decoder's error check catches wrong and NaN logits") {
  auto scalar = make_backend("scalar");
  const Trace t = run_greedy(*scalar, tiny_weights());
  const auto ref = reference_after(t, kPrompt.size(), tiny_weights());
  const double tol = logits_tolerance(tiny_weights().config, std::int64_t(kPrompt.size()));
  auto wrong = t.logits[0];
  wrong[50] += 0.01f * *std::max_element(wrong.begin(), wrong.end());
  CHECK(logits_relative_error(wrong, ref) > tol);
  wrong[50] = std::nanf("");
  CHECK_FALSE(logits_relative_error(wrong, ref) <= tol);
}
