#include "driver/generate_command.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <optional>
#include <random>
#include <ranges>
#include <span>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <fmt/ranges.h>

#include "core/errors.hpp"
#include "core/gguf.hpp"
#include "core/machine.hpp"
#include "core/safetensors.hpp"
#include "core/stats.hpp"
#include "decoder/gguf_weights.hpp"
#include "decoder/hf_folder.hpp"
#include "decoder/model.hpp"
#include "decoder/stored_weights.hpp"
#include "decoder/tokenizer.hpp"
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
    throw InvalidArgument("prompt-ids",
                          "no token ids (give e.g. --prompt-ids 464,3290,318, or "
                          "--prompt with --model)");
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
  return ids;
}

// The model: its weights and, from a file, its tokenizer.
struct LoadedModel {
  DecoderWeights weights;
  std::optional<Tokenizer> tokenizer;
  std::string source;
};

// What --model names, read far enough to know the model (config and tokenizer); the weights
// are read later, in the set-up. Bad files are InvalidArgument naming --model.
struct ModelSource {
  DecoderConfig config;
  std::optional<Tokenizer> tokenizer;
  std::unique_ptr<GgufFile> gguf;  // a GGUF file
  std::string folder;              // a Hugging Face folder
};

ModelSource open_model(const std::string& path) {
  namespace fs = std::filesystem;
  ModelSource m;
  try {
    if (fs::is_directory(path)) {
      m.folder = path;
      m.config = hf_folder_config(path);
      m.tokenizer = hf_folder_tokenizer(path);
    } else {
      m.gguf = std::make_unique<GgufFile>(path);
      m.config = gguf_config(*m.gguf, fs::path(path).stem().string());
      m.tokenizer = Tokenizer::from_gguf(*m.gguf);
    }
  } catch (const InvalidArgument& e) {
    throw InvalidArgument("model", e.detail());
  } catch (const std::exception& e) {
    throw InvalidArgument("model", e.what());
  }
  if (m.tokenizer->vocab_size() > m.config.vocab) {
    throw InvalidArgument("model", fmt::format("{}: the tokenizer's {} tokens exceed the model's "
                                               "vocabulary of {}",
                                               path, m.tokenizer->vocab_size(), m.config.vocab));
  }
  return m;
}

}  // namespace

namespace {

// The decode steps' times (median, min, max of the steps) and the tokens they made per second;
// a batch's steps make a token of each sequence still going.
void print_decode_timings(std::ostream& out, const std::vector<double>& step_s, std::int64_t tokens,
                          bool batched) {
  if (step_s.empty()) return;
  const SampleStats st = summarize(step_s);
  double sum = 0;
  for (const double s : step_s) sum += s;
  if (batched) {
    fmt::print(out,
               "decode: {} batched steps, {:.2f} ms/step median (min {:.2f}, max {:.2f}), "
               "{:.1f} tokens/s over the batch ({} tokens)\n",
               step_s.size(), 1e3 * st.median, 1e3 * st.min, 1e3 * st.max, double(tokens) / sum,
               tokens);
  } else {
    fmt::print(out,
               "decode: {} steps, {:.2f} ms/token median (min {:.2f}, max {:.2f}), "
               "{:.1f} tokens/s overall\n",
               step_s.size(), 1e3 * st.median, 1e3 * st.min, 1e3 * st.max, double(tokens) / sum);
  }
}

// Several prompts as one batch: each prompt fills its sequence's cache (one after another),
// then every decode step runs the sequences still going together, each sampling its own next
// token from its row of the logits. The texts are printed at the end, one per prompt.
void generate_batch(DecoderModel& model, const std::vector<std::vector<std::int32_t>>& prompts,
                    const GenerateOptions& o, const Tokenizer* tokenizer, std::ostream& out) {
  const auto B = std::int64_t(prompts.size());
  const std::optional<std::int32_t> eos = tokenizer != nullptr ? tokenizer->eos() : std::nullopt;
  std::vector<std::vector<std::int32_t>> generated(prompts.size());
  std::vector<bool> ended(prompts.size(), false);
  std::vector<std::uint64_t> rng(prompts.size());
  for (std::int64_t s = 0; s < B; ++s) rng[s] = o.seed + std::uint64_t(s);
  auto take = [&](std::int64_t s, std::span<const float> logits) {
    const std::int32_t next =
        sample_token(std::vector<float>(logits.begin(), logits.end()), o.temperature, o.top_k,
                     o.top_p, rng[s], std::int64_t(generated[s].size()));
    generated[s].push_back(next);
    ended[s] = eos && next == *eos;
  };
  fmt::print(
      out, "batch: {} prompts of {} tokens\n", B,
      fmt::join(prompts | std::views::transform([](const auto& p) { return p.size(); }), ", "));
  auto start = Clock::now();
  for (std::int64_t s = 0; s < B; ++s) take(s, model.forward(prompts[s], true, s));
  const double prefill_s = seconds_since(start);
  std::vector<double> step_s;
  std::int64_t decoded = 0;
  for (;;) {
    std::vector<std::int64_t> active;
    for (std::int64_t s = 0; s < B; ++s) {
      if (!ended[s] && std::int64_t(generated[s].size()) < o.count) active.push_back(s);
    }
    if (active.empty()) break;
    // Each step feeds the token each sequence sampled last.
    for (const std::int64_t s : active)
      model.set_tokens(model.position(s), std::span(&generated[s].back(), 1), s);
    start = Clock::now();
    model.decode_batch(active, /*greedy=*/true);
    for (std::size_t i = 0; i < active.size(); ++i)
      take(active[i], model.batch_logits(std::int64_t(i)));
    step_s.push_back(seconds_since(start));
    decoded += std::int64_t(active.size());
  }
  for (std::int64_t s = 0; s < B; ++s) {
    fmt::print(out, "[{}] prompt ({} tokens): {}\n", s + 1, prompts[s].size(),
               fmt::join(prompts[s], " "));
    if (tokenizer != nullptr) {
      std::string text;
      for (const std::int32_t t : generated[s]) {
        if (!(eos && t == *eos) && t < tokenizer->vocab_size()) text += tokenizer->decode_one(t);
      }
      fmt::print(out, "[{}] text: {}\n", s + 1, text);
    }
    fmt::print(out, "[{}] generated ({} tokens{}): {}\n", s + 1, generated[s].size(),
               ended[s] ? ", stopped at end of sequence" : "", fmt::join(generated[s], " "));
  }
  fmt::print(out, "prefill: {} prompts in {:.2f} ms (each filled alone)\n", B, 1e3 * prefill_s);
  print_decode_timings(out, step_s, decoded, /*batched=*/true);
}

}  // namespace

std::int32_t sample_token(const std::vector<float>& logits, double temperature, int top_k,
                          double top_p, std::uint64_t& rng_state, std::int64_t step) {
  const std::int32_t best = argmax(logits, step);  // also refuses non-finite logits
  if (temperature <= 0) return best;
  std::vector<std::int32_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  const std::size_t k =
      top_k > 0 ? std::min<std::size_t>(std::size_t(top_k), order.size()) : order.size();
  std::partial_sort(order.begin(), order.begin() + std::ptrdiff_t(k), order.end(),
                    [&](std::int32_t a, std::int32_t b) { return logits[a] > logits[b]; });
  order.resize(k);
  std::vector<double> p(k);
  double sum = 0;
  for (std::size_t i = 0; i < k; ++i)
    sum += p[i] = std::exp((double(logits[order[i]]) - logits[best]) / temperature);
  // Nucleus: the most likely tokens until their probability reaches top_p.
  std::size_t keep = k;
  double mass = 0;
  for (std::size_t i = 0; i < k; ++i) {
    mass += p[i] / sum;
    if (mass >= top_p) {
      keep = i + 1;
      break;
    }
  }
  std::mt19937_64 rng(rng_state);
  rng_state = rng();
  std::discrete_distribution<std::size_t> pick(p.begin(), p.begin() + std::ptrdiff_t(keep));
  return order[pick(rng)];
}

namespace {

// One prompt's text as ids: wrapped in the chat template where asked, encoded; InvalidArgument
// naming the option at fault.
std::vector<std::int32_t> encode_prompt(const std::string& prompt, std::size_t index,
                                        const GenerateOptions& o, const Tokenizer& tokenizer,
                                        const DecoderConfig& config) {
  // A text too long for the context whatever its tokens is refused before it is encoded.
  if (const std::size_t fewest = tokenizer.fewest_tokens(prompt.size());
      fewest >= std::size_t(config.n_ctx)) {
    throw InvalidArgument(
        o.prompt_option,
        fmt::format("prompt {} ({} bytes) is at least {} tokens, beyond {}'s context of "
                    "{} (valid: 1..{} tokens)",
                    index + 1, prompt.size(), fewest, config.name, config.n_ctx, config.n_ctx - 1));
  }
  std::string text = prompt;
  if (o.chat) {
    try {
      text = tokenizer.apply_chat_template(text);
    } catch (const std::invalid_argument& e) {
      throw InvalidArgument("chat", e.what());
    }
  }
  std::vector<std::int32_t> ids;
  try {
    // A chat template writes its own BOS where the model wants one; a plain prompt gets the
    // file's (Gemma's).
    ids = o.chat ? tokenizer.encode(text) : tokenizer.encode_prompt(text);
  } catch (const std::invalid_argument& e) {
    throw InvalidArgument(o.prompt_option, e.what());
  }
  if (ids.empty())
    throw InvalidArgument(o.prompt_option,
                          fmt::format("prompt {} has no tokens (it is empty)", index + 1));
  return ids;
}

// Every prompt as ids: texts through the model's tokenizer, or --prompt-ids.
std::vector<std::vector<std::int32_t>> prompt_ids(const GenerateOptions& o,
                                                  const DecoderConfig& config,
                                                  const Tokenizer* tokenizer) {
  if ((o.has_prompt || o.chat) && tokenizer == nullptr) {
    throw InvalidArgument(o.has_prompt ? "prompt" : "chat",
                          "text needs a tokenizer: give the model's file with --model (a GGUF "
                          "file or a Hugging Face folder), or token ids with --prompt-ids");
  }
  std::vector<std::vector<std::int32_t>> prompts;
  if (!o.has_prompt) {
    if (o.chat) throw InvalidArgument("chat", "--chat wraps a text prompt: give --prompt");
    prompts.push_back(parse_ids(o.prompt_ids, config));
    return prompts;
  }
  if (o.prompts.empty()) throw InvalidArgument(o.prompt_option, "no prompt text");
  for (std::size_t i = 0; i < o.prompts.size(); ++i)
    prompts.push_back(encode_prompt(o.prompts[i], i, o, *tokenizer, config));
  return prompts;
}

// The prompts against the batch and the context: returns the longest prompt's length.
std::int64_t check_lengths(const GenerateOptions& o,
                           const std::vector<std::vector<std::int32_t>>& prompts,
                           const DecoderConfig& config) {
  const auto B = std::int64_t(prompts.size());
  if (o.batch > 0 && B > o.batch) {
    throw InvalidArgument("batch", fmt::format("{} prompts exceed batch={} (give at most {} "
                                               "prompts, or a larger --batch)",
                                               B, o.batch, o.batch));
  }
  if (config.n_ctx < 2) {
    throw InvalidArgument("model", fmt::format("{}'s context of {} token(s) holds no prompt and "
                                               "a token after it (a model needs a context of 2 "
                                               "or more)",
                                               config.name, config.n_ctx));
  }
  std::int64_t longest = 0;
  for (const auto& p : prompts) longest = std::max(longest, std::int64_t(p.size()));
  if (longest >= config.n_ctx) {
    throw InvalidArgument(o.has_prompt ? o.prompt_option : "prompt-ids",
                          fmt::format("{} tokens leave no room to generate in {}'s context of {} "
                                      "(valid: 1..{} tokens)",
                                      longest, config.name, config.n_ctx, config.n_ctx - 1));
  }
  const std::int64_t room = config.n_ctx - longest;
  if (o.count < 1 || o.count > room) {
    throw InvalidArgument("count", fmt::format("{} is out of range: {} prompt tokens in {}'s "
                                               "context of {} leave room for 1..{}",
                                               o.count, longest, config.name, config.n_ctx, room));
  }
  return longest;
}

// --dtype, or its default: a GGUF file as it is stored, anything else in f32.
ModelDtype model_dtype(const GenerateOptions& o, const ModelSource& source) {
  if (!o.dtype) return source.gguf ? ModelDtype::file() : ModelDtype(WeightFormat::f32);
  if (o.dtype->from_file && !source.gguf) {
    throw InvalidArgument("dtype",
                          "file keeps each matrix as a GGUF file stores it: give "
                          "--model FILE.gguf, or a format");
  }
  return *o.dtype;
}

// The formats of a file's matrices, refused by name where the backend lacks one.
void require_backend_takes(const BackendDescriptor& d, const DecoderWeights& w, ModelDtype dtype) {
  for (const WeightFormat f : formats_of(w, dtype)) {
    if (!d.takes(f)) {
      throw InvalidArgument("dtype", fmt::format("'{}' cannot run {} stored as {} ({}; give "
                                                 "--dtype with a format it takes)",
                                                 d.name, w.config.name, dtype.name(), d.lacks(f)));
    }
  }
}

// The backend, refused by name where it cannot run this model in this dtype (a file's formats
// are checked once its weights are read: require_backend_takes).
std::unique_ptr<Backend> generation_backend(const GenerateOptions& o, const DecoderConfig& config,
                                            ModelDtype dtype) {
  const BackendDescriptor& d = *o.backend;
  if (const Availability av = d.availability(); !av.available)
    throw InvalidArgument("backend",
                          fmt::format("'{}' is unavailable here ({})", d.name, av.reason));
  for (const Op op : decoder_ops(config)) {
    if (!d.supports(op, d.default_dtype())) {
      throw InvalidArgument("backend", fmt::format("'{}' cannot run {} ({})", d.name, config.name,
                                                   d.lacks(op, d.default_dtype())));
    }
  }
  require_format_fits(config, dtype);
  if (!dtype.from_file && !d.takes(dtype.format)) {
    throw InvalidArgument("dtype", fmt::format("'{}' cannot run {} ({})", dtype.name(), config.name,
                                               d.lacks(dtype.format)));
  }
  auto backend = d.make();
  if (backend->is_multithreaded()) {
    backend->set_threads(o.threads > 0 ? o.threads : machine_info().cores);
  } else if (o.threads > 1) {
    backend->set_threads(o.threads);  // throws naming --threads and the valid range
  }
  return backend;
}

// The weights --model, --weights or the seed give, and where they came from (for the header).
std::pair<DecoderWeights, std::string> load_weights(const GenerateOptions& o,
                                                    const ModelSource& source,
                                                    const DecoderConfig& config) {
  try {
    if (source.gguf) return {load_gguf_weights(*source.gguf, config.name), o.model};
    if (!source.folder.empty()) return {hf_folder_weights(source.folder, config), o.model};
    if (o.weights.empty())
      return {random_weights(config, o.seed), fmt::format("seeded random (seed {})", o.seed)};
    return {load_gpt2_safetensors(o.weights, config), o.weights};
  } catch (const SafetensorsError& e) {
    throw InvalidArgument(o.model.empty() ? "weights" : "model", e.what());
  } catch (const GgufError& e) {
    throw InvalidArgument("model", e.what());
  }
}

void print_header(std::ostream& out, const DecoderConfig& config, const std::string& weights_text,
                  const Backend& backend, const GenerateOptions& o, ModelDtype dtype) {
  fmt::print(out, "model: {} ({}, {:.1f} M parameters), weights: {}\n", config.name,
             architecture_name(config.arch), double(config.parameters()) / 1e6, weights_text);
  fmt::print(out, "backend: {} ({} thread{}, target {}), weights stored as {}\n", backend.name(),
             backend.threads(), backend.threads() > 1 ? "s" : "", backend.simd_target(),
             dtype.from_file ? "in the file (each matrix as stored)" : dtype.name());
  fmt::print(out, "sampling: {}\n",
             o.temperature > 0 ? fmt::format("temperature {}, top-k {}, top-p {}, seed {}",
                                             o.temperature, o.top_k, o.top_p, o.seed)
                               : std::string("greedy"));
}

// One prompt: the first token comes from the prefill, each next from one decode step; the
// text streams as the tokens come (a token's bytes may end mid-character, and the terminal
// joins them with the next token's).
void generate_one(DecoderModel& model, const std::vector<std::int32_t>& prompt,
                  const GenerateOptions& o, const Tokenizer* tokenizer, std::ostream& out) {
  fmt::print(out, "prompt ({} tokens): {}\n", prompt.size(), fmt::join(prompt, " "));
  if (tokenizer != nullptr) fmt::print(out, "text: ");
  out.flush();
  std::uint64_t rng_state = o.seed;
  std::vector<std::int32_t> generated;
  bool stopped_at_eos = false;
  const std::optional<std::int32_t> eos = tokenizer != nullptr ? tokenizer->eos() : std::nullopt;
  auto take = [&](std::span<const float> logits) {
    const std::int32_t next =
        sample_token(std::vector<float>(logits.begin(), logits.end()), o.temperature, o.top_k,
                     o.top_p, rng_state, std::int64_t(generated.size()));
    generated.push_back(next);
    stopped_at_eos = eos && next == *eos;
    if (!stopped_at_eos && tokenizer != nullptr && next < tokenizer->vocab_size()) {
      out << tokenizer->decode_one(next);
      out.flush();
    }
  };
  auto start = Clock::now();
  take(model.forward(prompt));
  const double ttft_s = seconds_since(start);
  std::vector<double> step_s;
  while (std::int64_t(generated.size()) < o.count && !stopped_at_eos) {
    start = Clock::now();
    take(model.forward(std::span(&generated.back(), 1)));
    step_s.push_back(seconds_since(start));
  }
  if (tokenizer != nullptr) out << "\n";
  fmt::print(out, "generated ({} tokens{}): {}\n", generated.size(),
             stopped_at_eos ? ", stopped at end of sequence" : "", fmt::join(generated, " "));
  fmt::print(out, "time to first token: {:.2f} ms (prefill of {} tokens: {:.1f} tokens/s)\n",
             1e3 * ttft_s, prompt.size(), double(prompt.size()) / ttft_s);
  print_decode_timings(out, step_s, std::int64_t(step_s.size()), /*batched=*/false);
}

}  // namespace

int generate_command(const GenerateOptions& o, std::ostream& out) {
  // Everything checked before any weight is read.
  ModelSource source;
  if (!o.model.empty()) {
    source = open_model(o.model);
  } else {
    source.config = decoder_config(o.config);
  }
  const DecoderConfig& config = source.config;
  const Tokenizer* tokenizer = source.tokenizer ? &*source.tokenizer : nullptr;
  const auto prompts = prompt_ids(o, config, tokenizer);
  const std::int64_t longest = check_lengths(o, prompts, config);
  const ModelDtype dtype = model_dtype(o, source);
  auto backend = generation_backend(o, config, dtype);

  // Load, upload, prepare: not part of the timings.
  const auto setup_start = Clock::now();
  const auto [weights, weights_text] = load_weights(o, source, config);
  require_backend_takes(*o.backend, weights, dtype);
  const auto B = std::int64_t(prompts.size());
  DecoderModel model(*backend, weights, longest + o.count, dtype, B, nullptr, o.kv_format);
  model.prepare(B == 1 ? std::int64_t(prompts.front().size()) : 0, o.count, B);
  const double setup_s = seconds_since(setup_start);

  print_header(out, config, weights_text, *backend, o, dtype);
  if (B > 1) {
    generate_batch(model, prompts, o, tokenizer, out);
  } else {
    generate_one(model, prompts.front(), o, tokenizer, out);
  }
  fmt::print(out, "set-up (weights, upload, kernel preparation; not timed above): {:.2f} s\n",
             setup_s);
  return 0;
}

}  // namespace aigc
