#include "workloads/decoder.hpp"

#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "core/errors.hpp"
#include "core/gguf.hpp"
#include "decoder/accuracy.hpp"
#include "decoder/known_models.hpp"
#include "decoder/model.hpp"
#include "decoder/reference.hpp"
#include "decoder/stored_weights.hpp"
#include "decoder/tokenizer.hpp"
#include "distributed/tensor_group.hpp"
#include "workloads/shape_args.hpp"

namespace aigc {

namespace {

// A decoder shape's text split into its non-integer keys (cfg, also spelled model=, dtype and
// kv) and the integer ones, which parse_shape range-checks against the model.
struct DecoderShapeText {
  std::string name, dtype, kv, rest;
};

DecoderShapeText split_decoder_shape(const std::string& text) {
  DecoderShapeText t;
  bool named = false;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    if (item.rfind("dtype=", 0) == 0) {
      if (!t.dtype.empty())
        throw InvalidArgument("shapes", fmt::format("'{}': key 'dtype' given twice", text));
      t.dtype = item.substr(6);
      if (t.dtype.empty()) t.dtype = "(empty)";
    } else if (item.rfind("kv=", 0) == 0) {
      if (!t.kv.empty())
        throw InvalidArgument("shapes", fmt::format("'{}': key 'kv' given twice", text));
      t.kv = item.substr(3);
      if (t.kv.empty()) t.kv = "(empty)";
    } else if (item.rfind("cfg=", 0) == 0 || item.rfind("model=", 0) == 0) {
      if (named) throw InvalidArgument("shapes", fmt::format("'{}': key 'cfg' given twice", text));
      named = true;
      t.name = item.substr(item.find('=') + 1);
      if (t.name.empty()) {
        throw InvalidArgument("shapes", fmt::format("'{}': key 'cfg' has no value (a model "
                                                    "name, e.g. cfg=gpt2-124m)",
                                                    text));
      }
    } else {
      t.rest += (t.rest.empty() ? "" : ",") + item;
    }
  }
  if (t.name.empty()) {
    throw InvalidArgument("shapes", fmt::format("'{}': missing key 'cfg' (a model name, e.g. "
                                                "cfg=gpt2-124m)",
                                                text));
  }
  return t;
}

// The integer keys, in the model's ranges; a refusal quotes the shape as the user typed it.
std::map<std::string, std::int64_t> decoder_integers(const std::string& text,
                                                     const DecoderShapeText& t,
                                                     const DecoderConfig& c) {
  try {
    return parse_shape(t.rest, {{"prompt", 1, c.n_ctx},
                                {"gen", 0, c.n_ctx - 1, false, 0},
                                {"depth", 0, c.n_ctx - 1, false, 0},
                                {"batch", 1, DecoderModel::kMaxBatch, false, 1},
                                {"layers", 1, c.n_layer, false, c.n_layer},
                                {"logits", 0, 1, false, 1},
                                {"tp", 1, 1024, false, 1}});
  } catch (const InvalidArgument& e) {
    std::string detail = e.detail();
    const std::string quoted = fmt::format("'{}'", t.rest);
    if (detail.rfind(quoted, 0) == 0)
      detail = fmt::format("'{}'{}", text, detail.substr(quoted.size()));
    if (const auto at = detail.find("(valid: prompt"); at != std::string::npos)
      detail.insert(at + 8, "cfg, dtype, kv, ");
    throw InvalidArgument("shapes", detail);
  }
}

// What the keys must satisfy together, in this order: a batch decodes, tp splits the model
// evenly, the format (read here) is one and fits the widths, the KV format is one and fits the
// head size, tp takes f32 at depth 0, depth, prompt and gen fit the context.
void check_decoder_shape(const std::string& text, DecoderShape& s, const std::string& dtype,
                         const std::string& t_kv) {
  if (s.batch > 1 && s.gen == 0) {
    throw InvalidArgument("shapes", fmt::format("'{}': batch={} needs decode steps (gen > 0): a "
                                                "batch decodes its sequences together, each "
                                                "prompt is filled alone",
                                                text, s.batch));
  }
  if (s.tp > 1) {
    try {
      tensor_share(s.config, 0, s.tp);  // the heads and the MLP split evenly, or say why not
    } catch (const InvalidArgument& e) {
      throw InvalidArgument("shapes", fmt::format("'{}': tp: {}", text, e.detail()));
    }
  }
  // A model with a file runs as the file stores it unless told otherwise (as llama.cpp does).
  const bool has_file = has_model_file(s.config.name);
  s.dtype = has_file && s.tp == 1 ? ModelDtype::file() : ModelDtype(WeightFormat::f32);
  if (!dtype.empty()) {
    try {
      s.dtype = parse_model_dtype(dtype, "dtype");
      require_format_fits(s.config, s.dtype);
    } catch (const InvalidArgument& e) {
      throw InvalidArgument("shapes", fmt::format("'{}': dtype: {}", text, e.detail()));
    }
  }
  if (s.dtype.from_file && !has_file) {
    throw InvalidArgument("shapes",
                          fmt::format("'{}': dtype=file keeps each matrix as the model's "
                                      "file stores it, and {} has seeded random weights "
                                      "(valid: a format, or a model with a file: {})",
                                      text, s.config.name, fmt::join(models_with_files(), ", ")));
  }
  if (s.tp > 1 && !s.dtype.is_f32()) {
    throw InvalidArgument("shapes", fmt::format("'{}': tp={} takes f32 weights only (a share of "
                                                "{} blocks is not built)",
                                                text, s.tp, s.dtype.name()));
  }
  if (!t_kv.empty()) {
    try {
      s.kv_format = parse_kv_format(t_kv, "kv");
      kv_row_bytes(s.kv_format, s.config.head_dim(), "kv");
    } catch (const InvalidArgument& e) {
      throw InvalidArgument("shapes", fmt::format("'{}': kv: {}", text, e.detail()));
    }
  }
  if (s.tp > 1 && s.depth > 0) {
    throw InvalidArgument("shapes", fmt::format("'{}': tp={} runs at depth=0 only (a verification "
                                                "at depth reads the cache, which each rank "
                                                "holds a share of)",
                                                text, s.tp));
  }
  if (s.depth + s.prompt + s.gen > s.config.n_ctx) {
    throw InvalidArgument(
        "shapes", fmt::format("'{}': {}prompt + gen = {} exceeds {}'s context of {} tokens", text,
                              s.depth > 0 ? "depth + " : "", s.depth + s.prompt + s.gen,
                              s.config.name, s.config.n_ctx));
  }
}

}  // namespace

DecoderShape parse_decoder_shape(const std::string& text) {
  const DecoderShapeText t = split_decoder_shape(text);
  DecoderShape s;
  try {
    s.config = decoder_config(t.name);
  } catch (const InvalidArgument& e) {
    const std::string problem = std::string(e.what()).substr(e.argument().size() + 2);
    throw InvalidArgument("shapes", fmt::format("'{}': cfg: {}", text, problem));
  }
  const auto v = decoder_integers(text, t, s.config);
  s.prompt = v.at("prompt");
  s.gen = v.at("gen");
  s.depth = v.at("depth");
  s.batch = v.at("batch");
  s.config.n_layer = v.at("layers");
  s.logits = v.at("logits") == 1;
  s.tp = static_cast<int>(v.at("tp"));
  check_decoder_shape(text, s, t.dtype, t.kv);
  return s;
}

std::string format_decoder_shape(const DecoderShape& s) {
  std::string out = fmt::format("cfg={},prompt={}", s.config.name, s.prompt);
  if (s.gen > 0) out += fmt::format(",gen={}", s.gen);
  if (s.depth > 0) out += fmt::format(",depth={}", s.depth);
  if (s.batch > 1) out += fmt::format(",batch={}", s.batch);
  if (s.config.n_layer != decoder_config(s.config.name).n_layer)
    out += fmt::format(",layers={}", s.config.n_layer);
  if (!s.logits) out += ",logits=0";
  // A model with a file names its dtype always (its default is file, not f32).
  if (!s.dtype.is_f32() || has_model_file(s.config.name))
    out += fmt::format(",dtype={}", s.dtype.name());
  if (s.kv_format != WeightFormat::f32)
    out += fmt::format(",kv={}", weight_format_name(s.kv_format));
  if (s.tp > 1) out += fmt::format(",tp={}", s.tp);
  return out;
}

namespace {

// The float64 reference is the slow part of a verification: computed once per token
// sequence and shared by every backend that produced the same sequence.
std::vector<double> cached_reference_logits(const DecoderWeights& w, ModelDtype dtype,
                                            WeightFormat kv_format,
                                            std::span<const std::int32_t> ids,
                                            const MatrixRoundings& roundings) {
  static std::mutex mutex;
  static std::map<std::string, std::vector<double>> cache;
  std::string key = fmt::format("{}/{}/{}/{}", w.config.name, w.config.n_layer, dtype.name(),
                                weight_format_name(kv_format));
  for (const auto& [matrix, r] : roundings) key += fmt::format(";{}={}", matrix, int(r));
  for (const std::int32_t id : ids) key += fmt::format(",{}", id);
  const std::lock_guard lock(mutex);
  if (const auto it = cache.find(key); it != cache.end()) return it->second;
  if (cache.size() >= 16) cache.clear();
  // The reference computes with the weights the dtype keeps (exactly what the model stores).
  return cache[key] = reference_logits(weights_as_stored(w, dtype), ids, roundings,
                                       ReferencePrefix{.kv_format = kv_format});
}

// How the backend rounds each product's activations for this model (the reference rounds
// them too); a backend that would round one product two ways is refused by name.
MatrixRoundings roundings_for(const BackendDescriptor& d, const DecoderWeights& w,
                              ModelDtype dtype) {
  if (auto r = activation_roundings(d, w, dtype)) return *r;
  throw UnsupportedOp(
      fmt::format("{} would round a fused matrix's activations two ways for "
                  "{} stored as {} (its parts' formats differ)",
                  d.name, w.config.name, dtype.name()));
}

std::vector<std::int32_t> random_prompt(std::int64_t length, std::int64_t vocab,
                                        std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::int32_t> pick(0, static_cast<std::int32_t>(vocab - 1));
  std::vector<std::int32_t> ids(length);
  for (auto& id : ids) id = pick(rng);
  return ids;
}

class DecoderCase final : public WorkloadCase {
 public:
  // Builds the model (nothing passes between ranks yet: a failure here can be agreed on before
  // any collective); the contexts fill on the first run or verification.
  DecoderCase(Backend& backend, const DecoderShape& s)
      : s_(s),
        weights_(named_model_weights(s.config)),
        group_(s.tp > 1 ? dist::make_world_tensor_group(s.tp, backend) : nullptr),
        model_(backend, *weights_, s.depth + s.prompt + s.gen, s.dtype, s.batch, group_.get(),
               s.kv_format),
        roundings_(roundings_for(backend.descriptor(), *weights_, s.dtype)) {
    for (std::int64_t b = 0; b < s.batch; ++b) {
      prompts_.push_back(random_prompt(s.prompt, s.config.vocab, 99 + std::uint64_t(b)));
      depths_.push_back(random_prompt(s.depth, s.config.vocab, 1000 + std::uint64_t(b)));
      all_.push_back(b);
    }
    model_.prepare(s.prompt, s.gen, s.batch, s.depth);
  }

  std::optional<double> communication_s() const override {
    if (!group_ || !group_->times_communication()) return std::nullopt;
    return group_->communication_s();
  }

  // A prefill run is the prompt after the depth's tokens. A decode run is the gen steps alone,
  // each fed by the previous one's argmax on the backend: nothing returns to the host until the
  // timer has stopped. A batch runs every step of all its sequences together.
  void run() override {
    fill_contexts();
    if (s_.gen == 0) {
      model_.rewind(s_.depth);
      const auto logits = model_.forward(prompts_[0], s_.logits);
      if (s_.logits) next_token_ = argmax(logits, 0);
      return;
    }
    decode(s_.logits);
  }

  // Runs the phase with logits (greedy) from poisoned buffers and compares the last
  // logits with the float64 reference recomputed over the same tokens: of every sequence up
  // to three, else of the first, the middle and the last (each is a whole float64 forward; the
  // tests check every sequence of a batch against the same sequence alone).
  double verify() override {
    fill_contexts();
    if (s_.gen == 0) {
      model_.rewind(s_.depth);
      model_.poison();
      const auto logits = model_.forward(prompts_[0]);
      const std::vector<float> last(logits.begin(), logits.end());
      std::optional<DecoderWeights> stored;
      return logits_relative_error(last, reference(0, prompts_[0], stored));
    }
    for (std::int64_t b = 0; b < s_.batch; ++b)
      model_.set_tokens(s_.depth + s_.prompt, std::span(&first_tokens_[b], 1), b);
    model_.poison();
    decode(true);
    double worst = 0;
    std::optional<DecoderWeights> stored;  // formed once for the sequences checked
    for (const std::int64_t b : std::set<std::int64_t>{0, s_.batch / 2, s_.batch - 1}) {
      std::vector<std::int32_t> fed = prompts_[b];
      // The tokens fed: the first, then every step's argmax but the last's.
      const std::vector<std::int32_t> generated =
          model_.tokens(s_.depth + s_.prompt, s_.gen + 1, b);
      fed.insert(fed.end(), generated.begin(), generated.end() - 1);
      const auto logits = s_.batch == 1 ? model_.last_logits() : model_.batch_logits(b);
      const std::vector<float> last(logits.begin(), logits.end());
      worst = std::max(worst, logits_relative_error(last, reference(b, fed, stored)));
    }
    if (!s_.logits) set_feed();  // put back what run() feeds
    return worst;
  }

  double tolerance() const override {
    return logits_tolerance(s_.config, s_.depth + s_.prompt + s_.gen, s_.dtype,
                            coarsest(roundings_), s_.kv_format);
  }

 private:
  // Each sequence's context fills once, untimed: its depth's tokens, then (before decode steps)
  // its prompt, whose argmax is the first token fed.
  void fill_contexts() {
    if (filled_) return;
    filled_ = true;
    for (std::int64_t b = 0; b < s_.batch; ++b) {
      model_.rewind(0, b);
      if (s_.depth > 0) model_.forward(depths_[b], false, b);
      if (s_.gen > 0) first_tokens_.push_back(argmax(model_.forward(prompts_[b], true, b), 0));
    }
    if (s_.gen > 0 && !s_.logits) set_feed();
  }

  // The float64 logits after sequence b's `ids` (which follow its depth's tokens). At depth
  // the reference starts from the keys and values the backend's cache holds for the depth
  // (decoder/reference.hpp's ReferencePrefix): the timed tokens are checked, the depth's are
  // the same forward that depth 0 checks. Not shared between backends: their caches differ.
  // `stored`: the weights as the dtype keeps them, formed on first use and kept by the caller
  // for the other sequences it checks (a whole dequantized model each time otherwise).
  std::vector<double> reference(std::int64_t b, std::span<const std::int32_t> ids,
                                std::optional<DecoderWeights>& stored) {
    if (s_.depth == 0)
      return cached_reference_logits(*weights_, s_.dtype, s_.kv_format, ids, roundings_);
    ReferencePrefix prefix{s_.depth, {}, {}, s_.kv_format};
    for (std::int64_t i = 0; i < s_.config.n_layer; ++i) {
      DecoderModel::CachedRows rows = model_.cached_rows(i, s_.depth, b);
      prefix.keys.push_back(std::move(rows.keys));
      prefix.values.push_back(std::move(rows.values));
    }
    if (!stored) stored = weights_as_stored(*weights_, s_.dtype);
    return reference_logits(*stored, ids, roundings_, prefix);
  }

  // The gen steps from the end of the prompts (a single sequence's steps are recorded and
  // replayed where the backend records).
  void decode(bool greedy) {
    for (std::int64_t b = 0; b < s_.batch; ++b) model_.rewind(s_.depth + s_.prompt, b);
    if (s_.batch == 1) return model_.decode(s_.gen, greedy);
    for (std::int64_t g = 0; g < s_.gen; ++g) model_.decode_batch(all_, greedy);
  }

  // Without logits there is no argmax: the steps feed the first token, then prompt tokens.
  void set_feed() {
    for (std::int64_t b = 0; b < s_.batch; ++b) {
      std::vector<std::int32_t> feed(static_cast<std::size_t>(s_.gen));
      for (std::int64_t g = 0; g < s_.gen; ++g)
        feed[g] = g == 0 ? first_tokens_[b] : prompts_[b][g % s_.prompt];
      model_.set_tokens(s_.depth + s_.prompt, feed, b);
    }
  }

  DecoderShape s_;
  std::shared_ptr<const DecoderWeights> weights_;
  std::unique_ptr<TensorGroup> group_;  // tp > 1: this rank's group
  DecoderModel model_;
  // How the backend rounds each product's activations: the reference rounds them too.
  MatrixRoundings roundings_;
  std::vector<std::vector<std::int32_t>> prompts_, depths_;  // one of each per sequence
  std::vector<std::int64_t> all_;                            // 0 .. batch - 1
  std::vector<std::int32_t> first_tokens_;
  bool filled_ = false;
  std::int32_t next_token_ = 0;
};

// The keys a token at position p attends to, summed over the layers: p + 1 in each, at most
// the window in a sliding-window layer (Gemma 3's local layers stop growing there).
double keys_seen(const DecoderConfig& c, double p) {
  double keys = 0;
  for (std::int64_t i = 0; i < c.n_layer; ++i) {
    const std::int64_t window = c.window_of(i);
    keys += window > 0 ? std::min(p + 1, double(window)) : p + 1;
  }
  return keys;
}

// Per token at position p through every block: the projections (2 FLOPs per weight, biases and
// gains counted as weights: O(C) beside O(C^2)) and attention (4 A per key seen: scores and
// weighted values over every query head, A = H D). Norms, activations, rope and residuals are
// O(C) and left out.
double token_flops(const DecoderConfig& c, double p) {
  return 2.0 * double(c.n_layer) * double(c.block_parameters()) +
         4.0 * double(c.attention_width()) * keys_seen(c, p);
}
// The bytes of a model's projections (all its layers) and of its output matrix as the shape's
// dtype stores them: per weight for a format; a file's own tensors, part by part, for `file`.
struct StoredBytes {
  double projections = 0, output = 0;
};
StoredBytes stored_bytes(const DecoderShape& s) {
  const DecoderConfig& c = s.config;
  const double C = double(c.n_embd), V = double(c.vocab);
  if (!s.dtype.from_file) {
    const WeightFormat f = s.dtype.format;
    return {double(c.n_layer) * bytes_per_weight(f) * double(c.projection_parameters()),
            bytes_per_weight(output_format(f, c.n_embd)) * V * C};
  }
  const DecoderWeights& w = *named_model_weights(c);
  auto bytes_of = [&](const std::string& name, double floats) {
    const auto it = w.stored.find(name);
    if (it == w.stored.end()) return 4 * floats;  // kept in f32
    double b = 0;
    for (const StoredPart& p : it->second.parts) b += double(p.bytes.size());
    return b;
  };
  StoredBytes out{0, bytes_of("output", V * C)};
  const double F = double(c.ff()), Q = double(c.qkv_width());
  for (std::size_t i = 0; i < w.layers.size(); ++i) {
    out.projections += bytes_of(stored_name(i, "qkv"), C * Q) +
                       bytes_of(stored_name(i, "attn_out"), double(c.attention_width()) * C) +
                       bytes_of(stored_name(i, "up"), C * F) +
                       bytes_of(stored_name(i, "down"), F * C);
    if (c.gated_mlp()) out.projections += bytes_of(stored_name(i, "gate"), C * F);
  }
  return out;
}

// KV cache bytes per position per layer: a key and a value row of each KV head, in the format.
double cache_bytes_per_position(const DecoderShape& s) {
  const DecoderConfig& c = s.config;
  return 2.0 * double(c.kv_heads()) * double(kv_row_bytes(s.kv_format, c.head_dim()));
}

}  // namespace

std::vector<std::string> DecoderWorkload::preset_shapes(Preset preset) const {
  switch (preset) {
    case Preset::smoke:
      return {"cfg=tiny,prompt=16",
              "cfg=tiny,prompt=16,gen=8",
              "cfg=tiny-llama,prompt=16",
              "cfg=tiny-llama,prompt=16,gen=8",
              "cfg=tiny,prompt=16,gen=8,dtype=q4_1",
              "cfg=tiny,prompt=16,gen=8,batch=4"};
    case Preset::quick:  // fp32, and what answers llama.cpp: q8_0, the real files as stored
      return {
          "cfg=gpt2-124m,prompt=128", "cfg=gpt2-124m,prompt=128,gen=32",
          "cfg=gpt2-124m,prompt=128,gen=32,dtype=q8_0",
          "cfg=gpt2-124m,prompt=128,gen=32,batch=16",  // the batching target: 16 against 1
          "cfg=smollm2-135m,prompt=128,dtype=f32", "cfg=smollm2-135m,prompt=128,gen=32,dtype=f32",
          "cfg=smollm2-135m,prompt=128,dtype=file", "cfg=smollm2-135m,prompt=128,gen=32,dtype=file",
          "cfg=qwen2.5-coder-0.5b,prompt=128,dtype=file",
          "cfg=qwen2.5-coder-0.5b,prompt=128,gen=32,dtype=file",
          "cfg=gemma3-270m,prompt=128,dtype=file", "cfg=gemma3-270m,prompt=128,gen=32,dtype=file",
          // one deep row: past Gemma's window of 512, where its local layers stop growing
          "cfg=gemma3-270m,prompt=128,gen=32,depth=1024,dtype=file"};
    case Preset::full: {
      std::vector<std::string> shapes = {
          "cfg=gpt2-124m,prompt=32",          "cfg=gpt2-124m,prompt=256",
          "cfg=gpt2-124m,prompt=128,gen=128", "cfg=gpt2-124m,prompt=896,gen=128",
          "cfg=gpt2-355m,prompt=128",         "cfg=gpt2-355m,prompt=128,gen=32"};
      // Every weight format of both families: prefill and decode. SmolLM2's width (576) is not
      // a whole number of the K-quants' super-blocks of 256: GPT-2 alone takes those.
      for (const char* model : {"gpt2-124m", "smollm2-135m"}) {
        for (const WeightFormat f : kAllWeightFormats) {
          if (is_k_quant(f) && std::string(model) != "gpt2-124m") continue;
          const std::string dtype = fmt::format(",dtype={}", weight_format_name(f));
          if (std::string(model) != "gpt2-124m" || f != WeightFormat::f32)
            shapes.push_back(fmt::format("cfg={},prompt=128{}", model, dtype));
          shapes.push_back(fmt::format("cfg={},prompt=128,gen=32{}", model, dtype));
        }
      }
      // The real files as stored.
      for (const char* model : {"smollm2-135m", "qwen2.5-coder-0.5b", "gemma3-270m"}) {
        shapes.push_back(fmt::format("cfg={},prompt=128,dtype=file", model));
        shapes.push_back(fmt::format("cfg={},prompt=128,gen=32,dtype=file", model));
      }
      // Context depth (llama-bench -d): prefill and decode after 512 .. 16384 tokens.
      for (const char* model : {"qwen2.5-coder-0.5b", "gemma3-270m"}) {
        for (int depth = 512; depth <= 16384; depth *= 2) {
          shapes.push_back(fmt::format("cfg={},prompt=128,depth={},dtype=file", model, depth));
          shapes.push_back(
              fmt::format("cfg={},prompt=128,gen=32,depth={},dtype=file", model, depth));
        }
        // The KV cache's formats at depth 4096: f16 (llama.cpp's default) and q8_0.
        for (const char* kv : {"f16", "q8_0"}) {
          shapes.push_back(
              fmt::format("cfg={},prompt=128,gen=32,depth=4096,dtype=file,kv={}", model, kv));
        }
      }
      // Batched decoding, B = 2 .. 64 (B = 1 is the row above): fp32 for both families, and
      // GPT-2 in bf16 (the compute roofline of the largest batch on the bf16 dot product).
      for (const char* row :
           {"cfg=gpt2-124m,prompt=128,gen=32", "cfg=smollm2-135m,prompt=128,gen=32,dtype=f32",
            "cfg=gpt2-124m,prompt=128,gen=32,dtype=bf16"}) {
        for (int b = 2; b <= 64; b *= 2) shapes.push_back(fmt::format("{},batch={}", row, b));
      }
      return shapes;
    }
    case Preset::gpu:  // the decode target: 128 steps of GPT-2 124M after a 128-token prompt,
                       // and its decode on the stored formats (bytes per weight set its speed)
      return {"cfg=gpt2-124m,prompt=128", "cfg=gpt2-124m,prompt=128,gen=128",
              "cfg=gpt2-124m,prompt=128,gen=128,dtype=f16",
              "cfg=gpt2-124m,prompt=128,gen=128,dtype=q8_0",
              "cfg=gpt2-124m,prompt=128,gen=128,dtype=q4_1"};
  }
  return {};
}

std::vector<Op> decoder_ops(const DecoderConfig& config) {
  std::vector<Op> ops{Op::matmul, Op::attention, config.rmsnorm() ? Op::rmsnorm : Op::layernorm,
                      Op::elementwise};
  if (config.rope()) ops.push_back(Op::rope);
  return ops;
}

std::vector<Op> DecoderWorkload::ops(const Shape& shape) const {
  return decoder_ops(shape.as<DecoderShape>().config);
}

std::vector<WeightFormat> DecoderWorkload::weight_formats(const Shape& shape) const {
  const DecoderShape& s = shape.as<DecoderShape>();
  if (!s.dtype.from_file) return {s.dtype.format, output_format(s.dtype.format, s.config.n_embd)};
  const std::set<WeightFormat> f = formats_of(*named_model_weights(s.config), s.dtype);
  return {f.begin(), f.end()};
}

std::string DecoderWorkload::stored_dtype(const Shape& shape) const {
  const ModelDtype d = shape.as<DecoderShape>().dtype;
  return d.is_f32() ? "" : d.name();
}

Shape DecoderWorkload::with_f32_weights(const Shape& shape) const {
  DecoderShape s = shape.as<DecoderShape>();
  s.dtype = WeightFormat::f32;
  return shape_of(s);
}

Shape DecoderWorkload::parse(const std::string& text) const {
  return shape_of(parse_decoder_shape(text));
}

Shape DecoderWorkload::shape_of(const DecoderShape& s) { return Shape(format_decoder_shape(s), s); }

std::string DecoderWorkload::phase(const Shape& shape) const {
  return shape.as<DecoderShape>().gen > 0 ? "decode" : "prefill";
}

// Minimum traffic: every weight read once per forward (prefill reads them once for all its
// tokens, each decode step once more), the KV cache read by every decode step and each new
// row written once, the output embedding read for each set of logits.
WorkCounts DecoderWorkload::counts(const Shape& shape) const {
  const DecoderShape& s = shape.as<DecoderShape>();
  const DecoderConfig& c = s.config;
  const double C = double(c.n_embd), V = double(c.vocab), n = double(c.n_layer);
  // Weights as stored: the projections in the shape's dtype, norms and biases in fp32; the
  // output matrix (in output_format: decoder/stored_weights) and the final norm.
  const StoredBytes stored = stored_bytes(s);
  const double weights =
      stored.projections + n * 4 * double(c.block_parameters() - c.projection_parameters());
  const double kv = cache_bytes_per_position(s);
  const double head = s.logits ? stored.output + 8 * C : 0;
  const double head_flops = s.logits ? 2 * C * V : 0;
  const double D0 = double(s.depth);
  WorkCounts w;
  if (s.gen == 0) {
    // The prompt after the depth's tokens: their cache rows are read at least once.
    const double P = double(s.prompt);
    for (double p = D0; p < D0 + P; ++p) w.flops += token_flops(c, p);
    w.flops += head_flops;
    w.bytes = weights + head + P * (8 * C + n * kv) + kv * keys_seen(c, D0 - 1);
    w.tokens = s.prompt;
    w.n_units = s.config.n_layer * s.prompt;
  } else {
    // A batch's step reads the weights once for all its sequences, and each sequence's cache
    // (as far back as each layer looks).
    const double B = double(s.batch);
    for (std::int64_t p = s.depth + s.prompt; p < s.depth + s.prompt + s.gen; ++p) {
      w.flops += B * (token_flops(c, double(p)) + head_flops);
      w.bytes += weights + head + B * (4 * C * 2 + kv * keys_seen(c, double(p)));
    }
    w.tokens = s.batch * s.gen;
    w.n_units = s.config.n_layer * s.gen * s.batch;
  }
  // What must stay resident: the weights and every KV cache; it picks the bandwidth.
  const double caches = double(s.batch) * n * kv * double(s.depth + s.prompt + s.gen);
  w.working_set = weights + head + caches;
  // The weights on the host (all of them: the embeddings too) and on the backend, with the KV
  // cache, the activations of the longest step and the logits.
  const double all_weights = 4.0 * double(c.parameters());
  const double T = double(std::max<std::int64_t>({s.depth, s.prompt, s.batch, 1}));
  const double activations = 4 * T * (7 * C + 2 * double(c.ff()));
  w.host_bytes = all_weights + 8 * V;
  w.backend_bytes = all_weights + caches + activations + 4 * V * double(s.batch);
  return w;
}

std::int64_t DecoderWorkload::batch(const Shape& shape) const {
  return shape.as<DecoderShape>().batch;
}

Shape DecoderWorkload::with_batch(const Shape& shape, std::int64_t batch) const {
  DecoderShape s = shape.as<DecoderShape>();
  if (s.gen > 0) s.batch = batch;
  return shape_of(s);
}

int DecoderWorkload::ranks(const Shape& shape) const { return shape.as<DecoderShape>().tp; }

Shape DecoderWorkload::with_ranks(const Shape& shape, int ranks) const {
  DecoderShape s = shape.as<DecoderShape>();
  s.tp = ranks;
  return shape_of(s);
}

Shape DecoderWorkload::unit_shape(const Shape& shape) const {
  // One block for one token of one sequence, without the logits, at the phase's mean position,
  // in one process.
  DecoderShape s = shape.as<DecoderShape>();
  s.batch = 1;
  s.tp = 1;
  const std::int64_t position = s.depth + (s.gen == 0 ? s.prompt / 2 : s.prompt + s.gen / 2);
  s.prompt = std::max<std::int64_t>(1, position);
  s.depth = 0;
  s.gen = 1;
  s.config.n_layer = 1;
  s.logits = false;
  return shape_of(s);
}

std::optional<DecoderAccuracy> decoder_accuracy(const DecoderShape& s, Backend& backend) {
  const auto file = model_file(s.config.name);
  if (!file) return std::nullopt;
  static std::mutex mutex;
  static std::map<std::string, DecoderAccuracy> cache;
  const std::lock_guard lock(mutex);
  const std::string key = fmt::format("{}/{}/{}/{}", s.config.name, s.dtype.name(),
                                      weight_format_name(s.kv_format), backend.name());
  if (const auto it = cache.find(key); it != cache.end()) return it->second;
  const Tokenizer tokenizer = Tokenizer::from_gguf(GgufFile(*file));
  const std::vector<std::int32_t> text = tokenizer.encode_prompt(evaluation_text());
  constexpr std::int64_t kPrompt = 32, kGreedy = 64;
  const auto weights = named_model_weights(decoder_config(s.config.name));  // all its layers
  const std::int64_t length = std::max<std::int64_t>(std::int64_t(text.size()), kPrompt + kGreedy);
  const std::span<const std::int32_t> prompt = std::span(text).first(kPrompt);
  auto measure = [&](ModelDtype f, WeightFormat kv, double& ppl,
                     std::vector<std::int32_t>& greedy) {
    DecoderModel model(backend, *weights, length, f, 1, nullptr, kv);
    ppl = perplexity(model, text);
    greedy = greedy_tokens(model, prompt, kGreedy);
  };
  DecoderAccuracy a;
  a.text_tokens = std::int64_t(text.size());
  std::vector<std::int32_t> greedy, greedy_f32;
  // Against f32 weights with an f32 cache: what the stored weights and the cache's format cost.
  measure(s.dtype, s.kv_format, a.perplexity, greedy);
  if (s.dtype.is_f32() && s.kv_format == WeightFormat::f32) {
    a.perplexity_f32 = a.perplexity;
    greedy_f32 = greedy;
  } else {
    measure(WeightFormat::f32, WeightFormat::f32, a.perplexity_f32, greedy_f32);
  }
  a.greedy_agreement = agreement(greedy, greedy_f32);
  return cache[key] = a;
}

std::unique_ptr<WorkloadCase> DecoderWorkload::make_case(Backend& backend,
                                                         const Shape& shape) const {
  return std::make_unique<DecoderCase>(backend, shape.as<DecoderShape>());
}

}  // namespace aigc
