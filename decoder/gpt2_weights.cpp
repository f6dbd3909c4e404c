#include "decoder/gpt2_weights.hpp"

#include <cmath>
#include <random>

#include <fmt/format.h>

#include "core/safetensors.hpp"

namespace aigc {
namespace {

using Shape = std::vector<std::int64_t>;
enum class Init { gain, bias, weight, residual_weight };

// One table drives loading, saving and initialization, so the three cannot disagree.
struct LayerTensor {
  const char* name;  // after "h.N."
  std::vector<float> Gpt2LayerWeights::*member;
  Shape (*shape)(std::int64_t C);
  Init init;
};

const std::vector<LayerTensor>& layer_tensors() {
  static const std::vector<LayerTensor> table{
      {"ln_1.weight", &Gpt2LayerWeights::ln_1_weight, [](std::int64_t C) { return Shape{C}; },
       Init::gain},
      {"ln_1.bias", &Gpt2LayerWeights::ln_1_bias, [](std::int64_t C) { return Shape{C}; },
       Init::bias},
      {"attn.c_attn.weight", &Gpt2LayerWeights::attn_c_attn_weight,
       [](std::int64_t C) {
         return Shape{C, 3 * C};
       },
       Init::weight},
      {"attn.c_attn.bias", &Gpt2LayerWeights::attn_c_attn_bias,
       [](std::int64_t C) { return Shape{3 * C}; }, Init::bias},
      {"attn.c_proj.weight", &Gpt2LayerWeights::attn_c_proj_weight,
       [](std::int64_t C) {
         return Shape{C, C};
       },
       Init::residual_weight},
      {"attn.c_proj.bias", &Gpt2LayerWeights::attn_c_proj_bias,
       [](std::int64_t C) { return Shape{C}; }, Init::bias},
      {"ln_2.weight", &Gpt2LayerWeights::ln_2_weight, [](std::int64_t C) { return Shape{C}; },
       Init::gain},
      {"ln_2.bias", &Gpt2LayerWeights::ln_2_bias, [](std::int64_t C) { return Shape{C}; },
       Init::bias},
      {"mlp.c_fc.weight", &Gpt2LayerWeights::mlp_c_fc_weight,
       [](std::int64_t C) {
         return Shape{C, 4 * C};
       },
       Init::weight},
      {"mlp.c_fc.bias", &Gpt2LayerWeights::mlp_c_fc_bias,
       [](std::int64_t C) { return Shape{4 * C}; }, Init::bias},
      {"mlp.c_proj.weight", &Gpt2LayerWeights::mlp_c_proj_weight,
       [](std::int64_t C) {
         return Shape{4 * C, C};
       },
       Init::residual_weight},
      {"mlp.c_proj.bias", &Gpt2LayerWeights::mlp_c_proj_bias,
       [](std::int64_t C) { return Shape{C}; }, Init::bias},
  };
  return table;
}

struct TopTensor {
  const char* name;
  std::vector<float> Gpt2Weights::*member;
  Shape (*shape)(const Gpt2Config& c);
  Init init;
};

const std::vector<TopTensor>& top_tensors() {
  static const std::vector<TopTensor> table{
      {"wte.weight", &Gpt2Weights::wte,
       [](const Gpt2Config& c) {
         return Shape{c.vocab, c.n_embd};
       },
       Init::weight},
      {"wpe.weight", &Gpt2Weights::wpe,
       [](const Gpt2Config& c) {
         return Shape{c.n_ctx, c.n_embd};
       },
       Init::weight},
      {"ln_f.weight", &Gpt2Weights::ln_f_weight,
       [](const Gpt2Config& c) { return Shape{c.n_embd}; }, Init::gain},
      {"ln_f.bias", &Gpt2Weights::ln_f_bias, [](const Gpt2Config& c) { return Shape{c.n_embd}; },
       Init::bias},
  };
  return table;
}

std::int64_t elements(const Shape& s) {
  std::int64_t n = 1;
  for (std::int64_t d : s) n *= d;
  return n;
}

std::vector<float> initial_values(const Shape& shape, Init init, const Gpt2Config& c,
                                  std::mt19937_64& rng) {
  std::vector<float> v(static_cast<std::size_t>(elements(shape)));
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

}  // namespace

Gpt2Weights random_gpt2_weights(const Gpt2Config& c, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  Gpt2Weights w;
  w.config = c;
  for (const TopTensor& t : top_tensors()) w.*t.member = initial_values(t.shape(c), t.init, c, rng);
  w.layers.resize(static_cast<std::size_t>(c.n_layer));
  for (Gpt2LayerWeights& layer : w.layers) {
    for (const LayerTensor& t : layer_tensors())
      layer.*t.member = initial_values(t.shape(c.n_embd), t.init, c, rng);
  }
  return w;
}

Gpt2Weights load_gpt2_weights(const std::string& path, const Gpt2Config& c) {
  const SafetensorsFile f(path);
  Gpt2Weights w;
  w.config = c;
  for (const TopTensor& t : top_tensors()) w.*t.member = f.read_f32(resolve(f, t.name), t.shape(c));
  w.layers.resize(static_cast<std::size_t>(c.n_layer));
  for (std::int64_t i = 0; i < c.n_layer; ++i) {
    for (const LayerTensor& t : layer_tensors()) {
      w.layers[i].*t.member =
          f.read_f32(resolve(f, fmt::format("h.{}.{}", i, t.name)), t.shape(c.n_embd));
    }
  }
  return w;
}

void save_gpt2_weights(const std::string& path, const Gpt2Weights& w) {
  std::map<std::string, NamedTensor> tensors;
  const Gpt2Config& c = w.config;
  for (const TopTensor& t : top_tensors())
    tensors[std::string("transformer.") + t.name] = {t.shape(c), w.*t.member};
  for (std::int64_t i = 0; i < c.n_layer; ++i) {
    for (const LayerTensor& t : layer_tensors()) {
      tensors[fmt::format("transformer.h.{}.{}", i, t.name)] = {t.shape(c.n_embd),
                                                                w.layers[i].*t.member};
    }
  }
  write_safetensors(path, tensors);
}

}  // namespace aigc
