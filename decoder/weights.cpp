#include "decoder/weights.hpp"

#include <cmath>
#include <map>
#include <random>
#include <stdexcept>

#include <fmt/format.h>

#include "core/safetensors.hpp"

namespace aigc {
namespace {

using Shape = std::vector<std::int64_t>;
enum class Init { gain, bias, weight, residual_weight };

// One table drives GPT-2's loading, saving and initialization, so the three cannot disagree.
struct LayerTensor {
  const char* name;  // after "h.N."
  std::vector<float> LayerWeights::*member;
  Shape (*shape)(std::int64_t C);
  Init init;
};

const std::vector<LayerTensor>& gpt2_layer_tensors() {
  using L = LayerWeights;
  static const std::vector<LayerTensor> table{
      {"ln_1.weight", &L::attn_norm, [](std::int64_t C) { return Shape{C}; }, Init::gain},
      {"ln_1.bias", &L::attn_norm_bias, [](std::int64_t C) { return Shape{C}; }, Init::bias},
      {"attn.c_attn.weight", &L::qkv,
       [](std::int64_t C) {
         return Shape{C, 3 * C};
       },
       Init::weight},
      {"attn.c_attn.bias", &L::qkv_bias, [](std::int64_t C) { return Shape{3 * C}; }, Init::bias},
      {"attn.c_proj.weight", &L::attn_out,
       [](std::int64_t C) {
         return Shape{C, C};
       },
       Init::residual_weight},
      {"attn.c_proj.bias", &L::attn_out_bias, [](std::int64_t C) { return Shape{C}; }, Init::bias},
      {"ln_2.weight", &L::mlp_norm, [](std::int64_t C) { return Shape{C}; }, Init::gain},
      {"ln_2.bias", &L::mlp_norm_bias, [](std::int64_t C) { return Shape{C}; }, Init::bias},
      {"mlp.c_fc.weight", &L::up,
       [](std::int64_t C) {
         return Shape{C, 4 * C};
       },
       Init::weight},
      {"mlp.c_fc.bias", &L::up_bias, [](std::int64_t C) { return Shape{4 * C}; }, Init::bias},
      {"mlp.c_proj.weight", &L::down,
       [](std::int64_t C) {
         return Shape{4 * C, C};
       },
       Init::residual_weight},
      {"mlp.c_proj.bias", &L::down_bias, [](std::int64_t C) { return Shape{C}; }, Init::bias},
  };
  return table;
}

struct TopTensor {
  const char* name;
  std::vector<float> DecoderWeights::*member;
  Shape (*shape)(const DecoderConfig& c);
  Init init;
};

const std::vector<TopTensor>& gpt2_top_tensors() {
  using W = DecoderWeights;
  static const std::vector<TopTensor> table{
      {"wte.weight", &W::token_embedding,
       [](const DecoderConfig& c) {
         return Shape{c.vocab, c.n_embd};
       },
       Init::weight},
      {"wpe.weight", &W::position_embedding,
       [](const DecoderConfig& c) {
         return Shape{c.n_ctx, c.n_embd};
       },
       Init::weight},
      {"ln_f.weight", &W::final_norm, [](const DecoderConfig& c) { return Shape{c.n_embd}; },
       Init::gain},
      {"ln_f.bias", &W::final_norm_bias, [](const DecoderConfig& c) { return Shape{c.n_embd}; },
       Init::bias},
  };
  return table;
}

std::vector<float> initial_values(std::int64_t n, Init init, const DecoderConfig& c,
                                  std::mt19937_64& rng) {
  std::vector<float> v(static_cast<std::size_t>(n));
  const double std_dev = init == Init::residual_weight ? 0.02 / std::sqrt(2.0 * c.n_layer) : 0.02;
  std::normal_distribution<float> normal(0.0f, static_cast<float>(std_dev));
  std::uniform_real_distribution<float> small(-0.02f, 0.02f);
  for (float& x : v) {
    switch (init) {
      case Init::gain:
        x = 1.0f + small(rng);
        break;
      case Init::bias:
        x = small(rng);
        break;
      default:
        x = normal(rng);
    }
  }
  return v;
}

// Hugging Face saves GPT2LMHeadModel with the "transformer." prefix and GPT2Model without.
std::string resolve(const SafetensorsFile& f, const std::string& name) {
  const std::string prefixed = "transformer." + name;
  return f.contains(prefixed) || !f.contains(name) ? prefixed : name;
}

void require_size(const std::vector<float>& v, std::int64_t n, const std::string& what) {
  if (static_cast<std::int64_t>(v.size()) != n) {
    throw std::invalid_argument(
        fmt::format("weights: {} holds {} floats, the model needs {}", what, v.size(), n));
  }
}

}  // namespace

void DecoderWeights::check_sizes() const {
  const DecoderConfig& c = config;
  const std::int64_t C = c.n_embd, Q = c.qkv_width(), F = c.ff(), A = c.attention_width();
  const std::int64_t D = c.head_dim();
  const bool bias = c.biases;
  require_size(token_embedding, c.vocab * C, "the token embedding");
  require_size(position_embedding, c.rope() ? 0 : c.n_ctx * C, "the position embedding");
  require_size(final_norm, C, "the final norm");
  require_size(final_norm_bias, bias ? C : 0, "the final norm's bias");
  require_size(output, c.tied_output ? 0 : c.vocab * C, "the output matrix");
  if (static_cast<std::int64_t>(layers.size()) != c.n_layer) {
    throw std::invalid_argument(
        fmt::format("weights: {} layers, the model has {}", layers.size(), c.n_layer));
  }
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const LayerWeights& l = layers[i];
    auto at = [&](const char* what) { return fmt::format("layer {}'s {}", i, what); };
    require_size(l.attn_norm, C, at("attention norm"));
    require_size(l.attn_norm_bias, bias ? C : 0, at("attention norm bias"));
    require_size(l.qkv, C * Q, at("QKV projection"));
    require_size(l.qkv_bias, c.qkv_bias ? Q : 0, at("QKV bias"));
    require_size(l.attn_out, A * C, at("attention output"));
    require_size(l.q_norm, c.qk_norm ? D : 0, at("Q norm"));
    require_size(l.k_norm, c.qk_norm ? D : 0, at("K norm"));
    require_size(l.post_attn_norm, c.post_norms ? C : 0, at("post-attention norm"));
    require_size(l.post_mlp_norm, c.post_norms ? C : 0, at("post-MLP norm"));
    require_size(l.attn_out_bias, bias ? C : 0, at("attention output bias"));
    require_size(l.mlp_norm, C, at("MLP norm"));
    require_size(l.mlp_norm_bias, bias ? C : 0, at("MLP norm bias"));
    require_size(l.up, C * F, at("MLP up projection"));
    require_size(l.up_bias, bias ? F : 0, at("MLP up bias"));
    require_size(l.gate, c.gated_mlp() ? C * F : 0, at("MLP gate"));
    require_size(l.down, F * C, at("MLP down projection"));
    require_size(l.down_bias, bias ? C : 0, at("MLP down bias"));
  }
}

DecoderWeights random_weights(const DecoderConfig& c, std::uint64_t seed) {
  c.validate(c.name);
  std::mt19937_64 rng(seed);
  DecoderWeights w;
  w.config = c;
  w.layers.resize(static_cast<std::size_t>(c.n_layer));
  if (c.arch == Architecture::gpt2) {
    for (const TopTensor& t : gpt2_top_tensors()) {
      const Shape s = t.shape(c);
      w.*t.member = initial_values(s.size() == 1 ? s[0] : s[0] * s[1], t.init, c, rng);
    }
    for (LayerWeights& layer : w.layers) {
      for (const LayerTensor& t : gpt2_layer_tensors()) {
        const Shape s = t.shape(c.n_embd);
        layer.*t.member = initial_values(s.size() == 1 ? s[0] : s[0] * s[1], t.init, c, rng);
      }
    }
    return w;
  }
  const std::int64_t C = c.n_embd, Q = c.qkv_width(), F = c.ff();
  w.transposed = true;
  w.token_embedding = initial_values(c.vocab * C, Init::weight, c, rng);
  for (LayerWeights& l : w.layers) {
    l.attn_norm = initial_values(C, Init::gain, c, rng);
    l.qkv = initial_values(C * Q, Init::weight, c, rng);
    if (c.qkv_bias) l.qkv_bias = initial_values(Q, Init::bias, c, rng);
    l.attn_out = initial_values(c.attention_width() * C, Init::residual_weight, c, rng);
    if (c.qk_norm) {
      l.q_norm = initial_values(c.head_dim(), Init::gain, c, rng);
      l.k_norm = initial_values(c.head_dim(), Init::gain, c, rng);
    }
    if (c.post_norms) {
      l.post_attn_norm = initial_values(C, Init::gain, c, rng);
      l.post_mlp_norm = initial_values(C, Init::gain, c, rng);
    }
    l.mlp_norm = initial_values(C, Init::gain, c, rng);
    l.gate = initial_values(C * F, Init::weight, c, rng);
    l.up = initial_values(C * F, Init::weight, c, rng);
    l.down = initial_values(F * C, Init::residual_weight, c, rng);
  }
  w.final_norm = initial_values(C, Init::gain, c, rng);
  if (!c.tied_output) w.output = initial_values(c.vocab * C, Init::weight, c, rng);
  return w;
}

DecoderWeights load_gpt2_safetensors(const std::string& path, const DecoderConfig& c) {
  const SafetensorsFile f(path);
  DecoderWeights w;
  w.config = c;
  for (const TopTensor& t : gpt2_top_tensors())
    w.*t.member = f.read_f32(resolve(f, t.name), t.shape(c));
  w.layers.resize(static_cast<std::size_t>(c.n_layer));
  for (std::int64_t i = 0; i < c.n_layer; ++i) {
    for (const LayerTensor& t : gpt2_layer_tensors()) {
      w.layers[i].*t.member =
          f.read_f32(resolve(f, fmt::format("h.{}.{}", i, t.name)), t.shape(c.n_embd));
    }
  }
  return w;
}

void save_gpt2_safetensors(const std::string& path, const DecoderWeights& w) {
  if (w.config.arch != Architecture::gpt2 || w.transposed) {
    throw std::invalid_argument("save_gpt2_safetensors: the weights are not GPT-2's layout");
  }
  std::map<std::string, NamedTensor> tensors;
  const DecoderConfig& c = w.config;
  for (const TopTensor& t : gpt2_top_tensors())
    tensors[std::string("transformer.") + t.name] = {t.shape(c), w.*t.member};
  for (std::int64_t i = 0; i < c.n_layer; ++i) {
    for (const LayerTensor& t : gpt2_layer_tensors()) {
      tensors[fmt::format("transformer.h.{}.{}", i, t.name)] = {t.shape(c.n_embd),
                                                                w.layers[i].*t.member};
    }
  }
  write_safetensors(path, tensors);
}

std::string stored_name(std::size_t layer, const char* matrix) {
  return fmt::format("blk.{}.{}", layer, matrix);
}

DecoderWeights first_layers(const DecoderWeights& weights, std::int64_t layers) {
  if (layers < 1 || layers > weights.config.n_layer) {
    throw std::invalid_argument(
        fmt::format("first_layers: {} of {} layers", layers, weights.config.n_layer));
  }
  DecoderWeights w;
  w.config = weights.config;
  w.config.n_layer = layers;
  w.transposed = weights.transposed;
  w.token_embedding = weights.token_embedding;
  w.position_embedding = weights.position_embedding;
  w.layers.assign(weights.layers.begin(), weights.layers.begin() + layers);
  w.final_norm = weights.final_norm;
  w.final_norm_bias = weights.final_norm_bias;
  w.output = weights.output;
  for (const auto& [name, matrix] : weights.stored) {
    // "output", and the blocks kept: "blk.<i>." with i < layers.
    if (name.rfind("blk.", 0) == 0 && std::stoll(name.substr(4)) >= layers) continue;
    w.stored.emplace(name, matrix);
  }
  return w;
}

}  // namespace aigc
