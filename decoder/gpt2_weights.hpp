#pragma once
// GPT-2's weights on the host, in Hugging Face's layout: Conv1D weights stored [in, out]
// (so y = x . W + b is a plain row-major matmul), the output projection tied to wte.
#include <string>
#include <vector>

#include "decoder/gpt2_config.hpp"

namespace aigc {

struct Gpt2LayerWeights {
  std::vector<float> ln_1_weight, ln_1_bias;                // [C]
  std::vector<float> attn_c_attn_weight, attn_c_attn_bias;  // [C, 3C], [3C]
  std::vector<float> attn_c_proj_weight, attn_c_proj_bias;  // [C, C], [C]
  std::vector<float> ln_2_weight, ln_2_bias;                // [C]
  std::vector<float> mlp_c_fc_weight, mlp_c_fc_bias;        // [C, 4C], [4C]
  std::vector<float> mlp_c_proj_weight, mlp_c_proj_bias;    // [4C, C], [C]
};

struct Gpt2Weights {
  Gpt2Config config;
  std::vector<float> wte;  // [vocab, C], also the output projection
  std::vector<float> wpe;  // [n_ctx, C]
  std::vector<Gpt2LayerWeights> layers;
  std::vector<float> ln_f_weight, ln_f_bias;  // [C]
};

// GPT-2's initialization (normal, std 0.02; residual projections scaled by 1/sqrt(2 n_layer);
// layernorm gains 1 and biases 0), seeded. Biases get small random values too, so that a
// kernel ignoring a bias cannot pass a test.
Gpt2Weights random_gpt2_weights(const Gpt2Config& config, std::uint64_t seed);

// Every tensor from a model.safetensors checkpoint, by Hugging Face's names with or without
// the "transformer." prefix; throws SafetensorsError naming the file and the tensor that is
// missing or mis-shaped.
Gpt2Weights load_gpt2_weights(const std::string& path, const Gpt2Config& config);

// Writes weights under Hugging Face's names ("transformer." prefix), e.g. for tests.
void save_gpt2_weights(const std::string& path, const Gpt2Weights& weights);

}  // namespace aigc
