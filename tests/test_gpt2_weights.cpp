// GPT-2 configurations and weights: names, shapes, checkpoint round trip, clear errors.
#include <unistd.h>
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>

#include "core/errors.hpp"
#include "core/safetensors.hpp"
#include "decoder/gpt2_model.hpp"
#include "decoder/gpt2_weights.hpp"

using namespace aigc;
namespace fs = std::filesystem;

TEST_CASE("GPT-2 configurations by name, with the published parameter count") {
  const Gpt2Config c = gpt2_config("gpt2-124m");
  CHECK(c.n_layer == 12);
  CHECK(c.n_embd == 768);
  CHECK(c.head_dim() == 64);
  CHECK(c.parameters() == 124439808);  // GPT-2 small, counted with the tied output matrix
  CHECK(gpt2_config("gpt2-1558m").n_embd == 1600);
  CHECK_THROWS_WITH(gpt2_config("gpt5"),
                    Catch::Contains("unknown model 'gpt5'") && Catch::Contains("tiny"));
}

TEST_CASE("a checkpoint written as safetensors loads back the same weights") {
  const fs::path path =
      fs::temp_directory_path() / ("aigc_gpt2_" + std::to_string(::getpid()) + ".safetensors");
  const Gpt2Weights w = random_gpt2_weights(gpt2_config("tiny"), 7);
  save_gpt2_weights(path.string(), w);
  const Gpt2Weights loaded = load_gpt2_weights(path.string(), w.config);
  CHECK(loaded.wte == w.wte);
  CHECK(loaded.wpe == w.wpe);
  CHECK(loaded.ln_f_bias == w.ln_f_bias);
  REQUIRE(loaded.layers.size() == 2);
  CHECK(loaded.layers[1].attn_c_attn_weight == w.layers[1].attn_c_attn_weight);
  CHECK(loaded.layers[1].mlp_c_proj_bias == w.layers[1].mlp_c_proj_bias);

  // The same file read with another model's configuration: the first mismatch is named.
  CHECK_THROWS_WITH(
      load_gpt2_weights(path.string(), gpt2_config("gpt2-124m")),
      Catch::Contains("transformer.wte.weight") && Catch::Contains("expected [50257, 768]"));
  fs::remove(path);
}

TEST_CASE("a checkpoint missing one layer's tensor names that tensor") {
  const fs::path path = fs::temp_directory_path() /
                        ("aigc_gpt2_missing_" + std::to_string(::getpid()) + ".safetensors");
  const Gpt2Weights w = random_gpt2_weights(gpt2_config("tiny"), 8);
  Gpt2Weights one_layer = w;
  one_layer.config.n_layer = 1;
  one_layer.layers.resize(1);
  save_gpt2_weights(path.string(), one_layer);
  CHECK_THROWS_WITH(load_gpt2_weights(path.string(), w.config),
                    Catch::Contains("'transformer.h.1.ln_1.weight' is missing"));
  fs::remove(path);
}

TEST_CASE("random GPT-2 weights are seeded, non-zero and scaled like GPT-2's initialization") {
  const Gpt2Config c = gpt2_config("tiny");
  const Gpt2Weights a = random_gpt2_weights(c, 1), b = random_gpt2_weights(c, 1),
                    other = random_gpt2_weights(c, 2);
  CHECK(a.wte == b.wte);
  CHECK(a.wte != other.wte);
  double sum_sq = 0;
  for (float x : a.wte) sum_sq += double(x) * x;
  CHECK(std::sqrt(sum_sq / a.wte.size()) == Approx(0.02).epsilon(0.1));
  for (float g : a.layers[0].ln_1_weight) CHECK(std::abs(g - 1.0f) <= 0.02f);
  for (float x : a.layers[0].attn_c_attn_bias) CHECK(x != 0.0f);
}

TEST_CASE("a checkpoint with a NaN or infinite weight is refused, naming the tensor and index") {
  const fs::path path =
      fs::temp_directory_path() / ("aigc_gpt2_nan_" + std::to_string(::getpid()) + ".safetensors");
  for (const float bad : {std::nanf(""), INFINITY}) {
    Gpt2Weights w = random_gpt2_weights(gpt2_config("tiny"), 7);
    w.layers[1].mlp_c_fc_weight[37] = bad;
    save_gpt2_weights(path.string(), w);
    CHECK_THROWS_WITH(load_gpt2_weights(path.string(), w.config),
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
