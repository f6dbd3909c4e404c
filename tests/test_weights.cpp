// Decoder configurations and weights: names, shapes, checkpoint round trips (safetensors, Hugging
// Face folders of both architectures), clear errors.
#include <unistd.h>
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "core/errors.hpp"
#include "core/gguf.hpp"
#include "core/safetensors.hpp"
#include "decoder/gguf_weights.hpp"
#include "decoder/hf_folder.hpp"
#include "decoder/model.hpp"
#include "decoder/reference.hpp"
#include "decoder/weights.hpp"
#include "driver/cli.hpp"
#include "kernels/registry.hpp"

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
      Catch::Contains("transformer.wte.weight") && Catch::Contains("expected [50257, 768]"));
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

TEST_CASE("a Hugging Face GPT-2 folder of any depth and width loads by its config.json") {
  const fs::path dir = fs::temp_directory_path() / ("aigc_hf_gpt2_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  // distilgpt2's shape at a small width: 6 layers, not a named size.
  DecoderConfig c = decoder_config("tiny");
  c.n_layer = 6, c.n_embd = 48, c.n_head = 3, c.n_ctx = 40;
  const DecoderWeights w = random_weights(c, 11);
  save_gpt2_safetensors((dir / "model.safetensors").string(), w);
  std::ofstream(dir / "config.json")
      << R"({"model_type": "gpt2", "n_layer": 6, "n_embd": 48, "n_head": 3, "vocab_size": 97,
             "n_positions": 40, "n_inner": null, "layer_norm_epsilon": 1e-05})";
  const DecoderConfig loaded = hf_folder_config(dir.string());
  CHECK(loaded.n_layer == 6);
  CHECK(loaded.n_embd == 48);
  CHECK(loaded.ff() == 192);
  CHECK(hf_folder_weights(dir.string(), loaded).layers[5].down == w.layers[5].down);
  // A config of another model type, or of impossible sizes, is refused by name.
  std::ofstream(dir / "config.json") << R"({"model_type": "bert"})";
  CHECK_THROWS_WITH(hf_folder_config(dir.string()), Catch::Contains("model_type 'bert'"));
  std::ofstream(dir / "config.json")
      << R"({"model_type": "gpt2", "n_layer": 6, "n_embd": 48, "n_head": 5, "vocab_size": 97,
             "n_positions": 40})";
  CHECK_THROWS_WITH(hf_folder_config(dir.string()), Catch::Contains("5 heads do not divide"));
  fs::remove_all(dir);
}

TEST_CASE("a Hugging Face Llama folder loads into GGUF's rope layout and computes the same") {
  const fs::path dir = fs::temp_directory_path() / ("aigc_hf_llama_" + std::to_string(::getpid()));
  const DecoderWeights w = random_weights(decoder_config("tiny-llama"), 12);
  save_hf_llama_folder(dir.string(), w);
  const DecoderConfig c = hf_folder_config(dir.string());
  CHECK(c.arch == Architecture::llama);
  CHECK(c.kv_heads() == 2);
  CHECK_FALSE(c.tied_output);
  const DecoderWeights loaded = hf_folder_weights(dir.string(), c);
  // The save un-permuted Q and K (Hugging Face's rotate_half layout), the load permuted back.
  CHECK(loaded.layers[1].qkv == w.layers[1].qkv);
  CHECK(loaded.layers[0].gate == w.layers[0].gate);
  CHECK(loaded.output == w.output);
  // In Hugging Face's file, Q's rows are reordered: row 1 of head 0 is GGUF's row 2.
  const SafetensorsFile f((dir / "model.safetensors").string());
  const std::int64_t C = c.n_embd;
  const auto q = f.read_f32("model.layers.0.self_attn.q_proj.weight", {c.n_head * c.head_dim(), C});
  CHECK(std::equal(q.begin() + C, q.begin() + 2 * C, w.layers[0].qkv.begin() + 2 * C));
  fs::remove_all(dir);
}

namespace {

GgufTensorData f32_tensor(std::vector<std::int64_t> dims, const std::vector<float>& v) {
  GgufTensorData t{std::move(dims), GgmlType::f32, {}};
  t.data.resize(v.size() * sizeof(float));
  std::memcpy(t.data.data(), v.data(), t.data.size());
  return t;
}

// [in, out] -> [out, in], GGUF's layout of a projection.
std::vector<float> transposed(const std::vector<float>& w, std::int64_t in, std::int64_t out) {
  std::vector<float> t(w.size());
  for (std::int64_t i = 0; i < in; ++i)
    for (std::int64_t o = 0; o < out; ++o) t[o * in + i] = w[i * out + o];
  return t;
}

// GPT-2 weights as llama.cpp's converter writes them (names, metadata, [out, in] projections).
void write_gpt2_gguf(const std::string& path, const DecoderWeights& w, bool drop_one = false) {
  const DecoderConfig& c = w.config;
  const std::int64_t C = c.n_embd;
  auto u = [](std::int64_t v) { return GgufValue{GgufType::u32, std::uint64_t(v)}; };
  std::vector<std::pair<std::string, GgufValue>> meta{
      {"general.architecture", {GgufType::string, std::string("gpt2")}},
      {"gpt2.block_count", u(c.n_layer)},
      {"gpt2.embedding_length", u(C)},
      {"gpt2.attention.head_count", u(c.n_head)},
      {"gpt2.context_length", u(c.n_ctx)},
      {"gpt2.feed_forward_length", u(4 * C)},
      {"gpt2.attention.layer_norm_epsilon", {GgufType::f32, 1e-5}}};
  std::vector<std::pair<std::string, GgufTensorData>> t{
      {"token_embd.weight", f32_tensor({C, c.vocab}, w.token_embedding)},
      {"position_embd.weight", f32_tensor({C, c.n_ctx}, w.position_embedding)},
      {"output_norm.weight", f32_tensor({C}, w.final_norm)},
      {"output_norm.bias", f32_tensor({C}, w.final_norm_bias)}};
  for (std::int64_t i = 0; i < c.n_layer; ++i) {
    const LayerWeights& l = w.layers[i];
    const std::string p = "blk." + std::to_string(i) + ".";
    t.push_back({p + "attn_norm.weight", f32_tensor({C}, l.attn_norm)});
    t.push_back({p + "attn_norm.bias", f32_tensor({C}, l.attn_norm_bias)});
    t.push_back({p + "attn_qkv.weight", f32_tensor({C, 3 * C}, transposed(l.qkv, C, 3 * C))});
    t.push_back({p + "attn_qkv.bias", f32_tensor({3 * C}, l.qkv_bias)});
    t.push_back({p + "attn_output.weight", f32_tensor({C, C}, transposed(l.attn_out, C, C))});
    t.push_back({p + "attn_output.bias", f32_tensor({C}, l.attn_out_bias)});
    t.push_back({p + "ffn_norm.weight", f32_tensor({C}, l.mlp_norm)});
    t.push_back({p + "ffn_norm.bias", f32_tensor({C}, l.mlp_norm_bias)});
    t.push_back({p + "ffn_up.weight", f32_tensor({C, 4 * C}, transposed(l.up, C, 4 * C))});
    t.push_back({p + "ffn_up.bias", f32_tensor({4 * C}, l.up_bias)});
    t.push_back({p + "ffn_down.weight", f32_tensor({4 * C, C}, transposed(l.down, 4 * C, C))});
    t.push_back({p + "ffn_down.bias", f32_tensor({C}, l.down_bias)});
  }
  if (drop_one) t.pop_back();
  write_gguf(path, meta, t);
}

// A GGUF file's metadata and tensors as write_gguf takes them: changed, then written back as a
// forged file.
struct GgufCopy {
  std::vector<std::pair<std::string, GgufValue>> meta;
  std::vector<std::pair<std::string, GgufTensorData>> tensors;

  explicit GgufCopy(const GgufFile& f) : meta(f.metadata().begin(), f.metadata().end()) {
    for (const GgufTensor& t : f.tensors())
      tensors.push_back({t.name, {t.dims, t.type, f.read_raw(t.name)}});
  }
  void set(const std::string& key, const GgufValue& value) {
    for (auto& [k, v] : meta) {
      if (k == key) v = value;
    }
  }
  std::vector<std::uint8_t>& data(const std::string& tensor) {
    for (auto& [name, t] : tensors) {
      if (name == tensor) return t.data;
    }
    FAIL("no tensor " << tensor);
    throw std::logic_error("unreachable");
  }
  void write(const std::string& path) const { write_gguf(path, meta, tensors); }
};

}  // namespace

TEST_CASE("a GPT-2 GGUF file loads and computes what its safetensors twin does") {
  const fs::path path =
      fs::temp_directory_path() / ("aigc_gpt2_" + std::to_string(::getpid()) + ".gguf");
  const DecoderWeights w = random_weights(decoder_config("tiny"), 21);
  write_gpt2_gguf(path.string(), w);
  const GgufFile f(path.string());
  const DecoderWeights g = load_gguf_weights(f, "tiny");
  CHECK(g.transposed);
  CHECK(g.config.n_layer == 2);
  CHECK(g.config.n_ctx == 64);
  CHECK(g.config.tied_output);
  const std::vector<std::int32_t> ids{3, 9, 27, 81};
  const std::vector<double> a = reference_logits(w, ids), b = reference_logits(g, ids);
  double worst = 0, scale = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::abs(a[i] - b[i])), scale = std::max(scale, std::abs(a[i]));
  CHECK(worst <= 1e-12 * scale);  // the same model: float64 sums in another order
  auto scalar = make_backend("scalar");
  DecoderModel model(*scalar, g, 8);
  CHECK(logits_relative_error(model.forward(ids), a) <= logits_tolerance(g.config, 4));
  // A tensor missing is named with the file.
  write_gpt2_gguf(path.string(), w, /*drop_one=*/true);
  CHECK_THROWS_WITH(load_gguf_weights(GgufFile(path.string()), "tiny"),
                    Catch::Contains("blk.1.ffn_down.bias") && Catch::Contains(path.string()));
  // Only the first blocks, when asked.
  write_gpt2_gguf(path.string(), w);
  CHECK(load_gguf_weights(GgufFile(path.string()), "tiny", 1).layers.size() == 1);
  CHECK_THROWS_WITH(load_gguf_weights(GgufFile(path.string()), "tiny", 3),
                    Catch::Contains("valid: 1..2"));
  fs::remove(path);
}

TEST_CASE("a GGUF file's infinite epsilon or NaN weight is refused at load, by key or tensor") {
  const fs::path path =
      fs::temp_directory_path() / ("aigc_nan_" + std::to_string(::getpid()) + ".gguf");
  const DecoderWeights w = random_weights(decoder_config("tiny"), 23);
  write_gpt2_gguf(path.string(), w);
  const GgufFile f(path.string());
  auto rewrite = [&](const std::string& key, const GgufValue& value, const std::string& tensor) {
    GgufCopy copy(f);
    copy.set(key, value);
    if (!tensor.empty()) {
      const float nan = std::numeric_limits<float>::quiet_NaN();
      std::memcpy(copy.data(tensor).data() + 2 * sizeof(float), &nan, sizeof nan);  // element 2
    }
    const std::string forged = path.string() + ".forged";
    copy.write(forged);
    return forged;
  };
  const GgufValue eps{GgufType::f32, 1e-5};
  for (const double bad : {std::numeric_limits<double>::infinity(), 0.0, -1e-5}) {
    const std::string forged =
        rewrite("gpt2.attention.layer_norm_epsilon", {GgufType::f32, bad}, "");
    CHECK_THROWS_WITH(load_gguf_weights(GgufFile(forged), "tiny"),
                      Catch::Contains("gpt2.attention.layer_norm_epsilon is") &&
                          Catch::Contains("outside its valid range"));
  }
  const std::string forged = rewrite("gpt2.attention.layer_norm_epsilon", eps, "blk.1.ffn_up.bias");
  CHECK_THROWS_WITH(load_gguf_weights(GgufFile(forged), "tiny"),
                    Catch::Contains("tensor 'blk.1.ffn_up.bias': element 2 is nan"));
  fs::remove(path);
  fs::remove(forged);
}

TEST_CASE("generate blames the model whose context of 1 token holds no prompt and a token") {
  const fs::path path =
      fs::temp_directory_path() / ("aigc_ctx1_" + std::to_string(::getpid()) + ".gguf");
  DecoderConfig c = decoder_config("tiny");
  c.n_ctx = 1;
  write_gpt2_gguf(path.string(), random_weights(c, 24));
  {  // and a tokenizer, which generate --model reads
    GgufCopy copy{GgufFile(path.string())};
    GgufArray tokens{GgufType::string, {}};
    for (std::int64_t i = 0; i < c.vocab; ++i)
      tokens.items.push_back({GgufType::string, std::string("t").append(std::to_string(i))});
    copy.meta.push_back({"tokenizer.ggml.model", {GgufType::string, std::string("gpt2")}});
    copy.meta.push_back({"tokenizer.ggml.tokens", {GgufType::array, tokens}});
    copy.meta.push_back(
        {"tokenizer.ggml.merges", {GgufType::array, GgufArray{GgufType::string, {}}}});
    copy.write(path.string() + ".tok");
  }
  fs::rename(path.string() + ".tok", path);
  std::ostringstream out, err;
  const int status = run_cli(
      {"generate", "--model", path.string(), "--prompt-ids", "1", "--count", "1"}, out, err);
  CHECK(status == 2);
  CHECK_THAT(err.str(), Catch::Contains("--model: ") && Catch::Contains("context of 1 token") &&
                            !Catch::Contains("1..0"));
  fs::remove(path);
}

TEST_CASE("a GGUF file claiming 2^40 blocks is refused at the first block it lacks") {
  const fs::path path =
      fs::temp_directory_path() / ("aigc_forged_" + std::to_string(::getpid()) + ".gguf");
  const DecoderWeights w = random_weights(decoder_config("tiny"), 22);
  write_gpt2_gguf(path.string(), w);
  // Rewrite with a forged block count: the same tensors, metadata claiming 2^40 blocks.
  GgufCopy copy{GgufFile(path.string())};
  copy.set("gpt2.block_count", {GgufType::u64, std::uint64_t{1} << 40});
  const fs::path forged = path.string() + ".forged";
  copy.write(forged.string());
  CHECK_THROWS_WITH(load_gguf_weights(GgufFile(forged.string()), "tiny"),
                    Catch::Contains("blk.2.attn_norm.weight"));
  fs::remove(path);
  fs::remove(forged);
}
