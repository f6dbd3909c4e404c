// GPT-2 configurations and weights: names, shapes, checkpoint round trip, clear errors.
#include <unistd.h>
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>

#include "core/errors.hpp"
#include "core/safetensors.hpp"
#include "decoder/model.hpp"
#include "decoder/weights.hpp"

using namespace aigc;
namespace fs = std::filesystem;

TEST_CASE("GPT-2 configurations by name, with the published parameter count") {
  const DecoderConfig c = decoder_config("gpt2-124m");
  CHECK(c.n_layer == 12);
  CHECK(c.n_embd == 768);
  CHECK(c.head_dim() == 64);
  CHECK(c.parameters() == 124439808);  // GPT-2 small, counted with the tied output matrix
  CHECK(decoder_config("gpt2-1558m").n_embd == 1600);
  CHECK_THROWS_WITH(decoder_config("gpt5"),
                    Catch::Contains("unknown model 'gpt5'") && Catch::Contains("tiny"));
}

TEST_CASE("a checkpoint written as safetensors loads back the same weights") {
  const fs::path path =
      fs::temp_directory_path() / ("aigc_gpt2_" + std::to_string(::getpid()) + ".safetensors");
  const DecoderWeights w = random_weights(decoder_config("tiny"), 7);
  save_gpt2_safetensors(path.string(), w);
  const DecoderWeights loaded = load_gpt2_safetensors(path.string(), w.config);
  CHECK(loaded.token_embedding == w.token_embedding);
  CHECK(loaded.position_embedding == w.position_embedding);
  CHECK(loaded.final_norm_bias == w.final_norm_bias);
  REQUIRE(loaded.layers.size() == 2);
  CHECK(loaded.layers[1].qkv == w.layers[1].qkv);
  CHECK(loaded.layers[1].down_bias == w.layers[1].down_bias);

  // The same file read with another model's configuration: the first mismatch is named.
  CHECK_THROWS_WITH(
      load_gpt2_safetensors(path.string(), decoder_config("gpt2-124m")),
      Catch::Contains("transformer.token_embedding.weight") && Catch::Contains("expected [50257, 768]"));
  fs::remove(path);
}

TEST_CASE("a checkpoint missing one layer's tensor names that tensor") {
  const fs::path path = fs::temp_directory_path() /
                        ("aigc_gpt2_missing_" + std::to_string(::getpid()) + ".safetensors");
  const DecoderWeights w = random_weights(decoder_config("tiny"), 8);
  DecoderWeights one_layer = w;
  one_layer.config.n_layer = 1;
  one_layer.layers.resize(1);
  save_gpt2_safetensors(path.string(), one_layer);
  CHECK_THROWS_WITH(load_gpt2_safetensors(path.string(), w.config),
                    Catch::Contains("'transformer.h.1.ln_1.weight' is missing"));
  fs::remove(path);
}

TEST_CASE("random GPT-2 weights are seeded, non-zero and scaled like GPT-2's initialization") {
  const DecoderConfig c = decoder_config("tiny");
  const DecoderWeights a = random_weights(c, 1), b = random_weights(c, 1),
                    other = random_weights(c, 2);
  CHECK(a.token_embedding == b.token_embedding);
  CHECK(a.token_embedding != other.token_embedding);
  double sum_sq = 0;
  for (float x : a.token_embedding) sum_sq += double(x) * x;
  CHECK(std::sqrt(sum_sq / a.token_embedding.size()) == Approx(0.02).epsilon(0.1));
  for (float g : a.layers[0].attn_norm) CHECK(std::abs(g - 1.0f) <= 0.02f);
  for (float x : a.layers[0].qkv_bias) CHECK(x != 0.0f);
}

TEST_CASE("a checkpoint with a NaN or infinite weight is refused, naming the tensor and index") {
  const fs::path path =
      fs::temp_directory_path() / ("aigc_gpt2_nan_" + std::to_string(::getpid()) + ".safetensors");
  for (const float bad : {std::nanf(""), INFINITY}) {
    DecoderWeights w = random_weights(decoder_config("tiny"), 7);
    w.layers[1].up[37] = bad;
    save_gpt2_safetensors(path.string(), w);
    CHECK_THROWS_WITH(load_gpt2_safetensors(path.string(), w.config),
                      Catch::Contains("h.1.mlp.c_fc.weight") && Catch::Contains("element 37") &&
                          Catch::Contains("must be finite"));
  }
  fs::remove(path);
}

TEST_CASE("non-finite logits are an error naming the step, never a token") {
  std::vector<float> logits{0.5f, 2.0f, -1.0f};
  CHECK(argmax(logits, 0) == 1);
  logits[2] = std::nanf("");
  CHECK_THROWS_WITH(argmax(logits, 0),
                    Catch::Contains("prompt's step") && Catch::Contains("index 2"));
  logits[2] = -INFINITY;
  CHECK_THROWS_WITH(argmax(logits, 4), Catch::Contains("decode step 4"));
}
