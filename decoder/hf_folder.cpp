#include "decoder/hf_folder.hpp"

#include <filesystem>
#include <fstream>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/errors.hpp"
#include "core/safetensors.hpp"

namespace aigc {
namespace {

namespace fs = std::filesystem;
using Shape = std::vector<std::int64_t>;

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InvalidArgument("model", fmt::format("{}: cannot open", path));
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw InvalidArgument("model", fmt::format("{}: not JSON ({})", path, e.what()));
  }
}

template <typename T>
T field(const nlohmann::json& j, const char* key, const std::string& path) {
  if (!j.contains(key) || j.at(key).is_null())
    throw InvalidArgument("model", fmt::format("{}: key '{}' is missing", path, key));
  try {
    return j.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw InvalidArgument("model", fmt::format("{}: key '{}' has the wrong type", path, key));
  }
}

template <typename T>
T field_or(const nlohmann::json& j, const char* key, T fallback, const std::string& path) {
  return j.contains(key) && !j.at(key).is_null() ? field<T>(j, key, path) : fallback;
}

std::string safetensors_path(const std::string& folder) {
  return (fs::path(folder) / "model.safetensors").string();
}

}  // namespace

DecoderConfig hf_folder_config(const std::string& folder) {
  const std::string path = (fs::path(folder) / "config.json").string();
  const nlohmann::json j = read_json(path);
  const std::string type = field<std::string>(j, "model_type", path);
  DecoderConfig c;
  c.name = fs::path(folder).filename().string();
  if (c.name.empty()) c.name = fs::path(folder).parent_path().filename().string();
  if (type == "gpt2") {
    c.n_layer = field<std::int64_t>(j, "n_layer", path);
    c.n_embd = field<std::int64_t>(j, "n_embd", path);
    c.n_head = field<std::int64_t>(j, "n_head", path);
    c.vocab = field<std::int64_t>(j, "vocab_size", path);
    c.n_ctx = field<std::int64_t>(j, "n_positions", path);
    c.n_ff = field_or<std::int64_t>(j, "n_inner", 0, path);
    c.norm_eps = float(field_or<double>(j, "layer_norm_epsilon", 1e-5, path));
    if (c.n_ff != 0 && c.n_ff != 4 * c.n_embd)
      throw InvalidArgument("model", fmt::format("{}: n_inner {} is not 4 n_embd", path, c.n_ff));
  } else if (type == "llama") {
    set_architecture(c, Architecture::llama);
    c.n_layer = field<std::int64_t>(j, "num_hidden_layers", path);
    c.n_embd = field<std::int64_t>(j, "hidden_size", path);
    c.n_head = field<std::int64_t>(j, "num_attention_heads", path);
    c.n_kv_head = field_or<std::int64_t>(j, "num_key_value_heads", c.n_head, path);
    c.n_ff = field<std::int64_t>(j, "intermediate_size", path);
    c.vocab = field<std::int64_t>(j, "vocab_size", path);
    c.n_ctx = field<std::int64_t>(j, "max_position_embeddings", path);
    c.norm_eps = float(field_or<double>(j, "rms_norm_eps", 1e-6, path));
    c.rope_base = float(field_or<double>(j, "rope_theta", 10000.0, path));
    c.tied_output = field_or<bool>(j, "tie_word_embeddings", false, path);
    if (j.contains("rope_scaling") && !j.at("rope_scaling").is_null())
      throw InvalidArgument("model", fmt::format("{}: rope_scaling is not supported", path));
  } else {
    throw InvalidArgument("model", fmt::format("{}: model_type '{}' is not one this decoder "
                                               "runs (valid: gpt2, llama)",
                                               path, type));
  }
  c.validate(path);
  return c;
}

Tokenizer hf_folder_tokenizer(const std::string& folder) {
  const fs::path dir(folder);
  if (fs::exists(dir / "vocab.json") && fs::exists(dir / "merges.txt")) {
    try {
      return Tokenizer::from_vocab_and_merges((dir / "vocab.json").string(),
                                              (dir / "merges.txt").string());
    } catch (const std::exception& e) {
      throw InvalidArgument("model", e.what());
    }
  }
  const std::string path = (dir / "tokenizer.json").string();
  if (!fs::exists(path)) {
    throw InvalidArgument("model", fmt::format("{}: no tokenizer (vocab.json and merges.txt, or "
                                               "tokenizer.json)",
                                               folder));
  }
  const nlohmann::json j = read_json(path);
  try {
    const auto& model = j.at("model");
    if (model.at("type") != "BPE") throw std::runtime_error("model.type is not BPE");
    std::vector<std::string> tokens(model.at("vocab").size());
    for (const auto& [text, id] : model.at("vocab").items()) {
      const auto i = id.get<std::size_t>();
      if (i >= tokens.size()) tokens.resize(i + 1);
      tokens[i] = text;
    }
    std::vector<std::int32_t> special;
    for (const auto& added : j.value("added_tokens", nlohmann::json::array())) {
      const auto i = added.at("id").get<std::size_t>();
      if (i >= tokens.size()) tokens.resize(i + 1);
      tokens[i] = added.at("content").get<std::string>();
      special.push_back(std::int32_t(i));
    }
    std::vector<std::string> merges;
    for (const auto& m : model.at("merges")) {
      merges.push_back(m.is_string()
                           ? m.get<std::string>()
                           : m.at(0).get<std::string>() + " " + m.at(1).get<std::string>());
    }
    return Tokenizer(std::move(tokens), merges, std::move(special), std::nullopt, std::nullopt);
  } catch (const std::exception& e) {
    throw InvalidArgument("model", fmt::format("{}: {}", path, e.what()));
  }
}

DecoderWeights hf_folder_weights(const std::string& folder, const DecoderConfig& c) {
  if (c.arch == Architecture::gpt2) return load_gpt2_safetensors(safetensors_path(folder), c);
  const SafetensorsFile f(safetensors_path(folder));
  const std::int64_t C = c.n_embd, F = c.ff(), D = c.head_dim(), H = c.n_head, Hkv = c.kv_heads();
  DecoderWeights w;
  w.config = c;
  w.transposed = true;
  w.token_embedding = f.read_f32("model.embed_tokens.weight", {c.vocab, C});
  w.final_norm = f.read_f32("model.norm.weight", {C});
  if (!c.tied_output) w.output = f.read_f32("lm_head.weight", {c.vocab, C});
  w.layers.resize(std::size_t(c.n_layer));
  for (std::int64_t i = 0; i < c.n_layer; ++i) {
    LayerWeights& l = w.layers[i];
    auto read = [&](const char* name, const Shape& shape) {
      return f.read_f32(fmt::format("model.layers.{}.{}", i, name), shape);
    };
    l.attn_norm = read("input_layernorm.weight", {C});
    l.qkv = permute_rope_rows(read("self_attn.q_proj.weight", {H * D, C}), H, D, C, true);
    const auto k =
        permute_rope_rows(read("self_attn.k_proj.weight", {Hkv * D, C}), Hkv, D, C, true);
    const auto v = read("self_attn.v_proj.weight", {Hkv * D, C});
    l.qkv.insert(l.qkv.end(), k.begin(), k.end());
    l.qkv.insert(l.qkv.end(), v.begin(), v.end());
    l.attn_out = read("self_attn.o_proj.weight", {C, C});
    l.mlp_norm = read("post_attention_layernorm.weight", {C});
    l.gate = read("mlp.gate_proj.weight", {F, C});
    l.up = read("mlp.up_proj.weight", {F, C});
    l.down = read("mlp.down_proj.weight", {C, F});
  }
  return w;
}

void save_hf_llama_folder(const std::string& folder, const DecoderWeights& w) {
  const DecoderConfig& c = w.config;
  if (c.arch != Architecture::llama || !w.transposed)
    throw std::invalid_argument("save_hf_llama_folder: not Llama weights in [out, in] layout");
  const std::int64_t C = c.n_embd, F = c.ff(), D = c.head_dim(), H = c.n_head, Hkv = c.kv_heads();
  fs::create_directories(folder);
  std::map<std::string, NamedTensor> t;
  t["model.embed_tokens.weight"] = {{c.vocab, C}, w.token_embedding};
  t["model.norm.weight"] = {{C}, w.final_norm};
  if (!c.tied_output) t["lm_head.weight"] = {{c.vocab, C}, w.output};
  for (std::int64_t i = 0; i < c.n_layer; ++i) {
    const LayerWeights& l = w.layers[i];
    const std::string p = fmt::format("model.layers.{}.", i);
    const auto q_end = l.qkv.begin() + H * D * C, k_end = q_end + Hkv * D * C;
    t[p + "input_layernorm.weight"] = {{C}, l.attn_norm};
    t[p + "self_attn.q_proj.weight"] = {
        {H * D, C}, permute_rope_rows(std::vector<float>(l.qkv.begin(), q_end), H, D, C, false)};
    t[p + "self_attn.k_proj.weight"] = {
        {Hkv * D, C}, permute_rope_rows(std::vector<float>(q_end, k_end), Hkv, D, C, false)};
    t[p + "self_attn.v_proj.weight"] = {{Hkv * D, C}, std::vector<float>(k_end, l.qkv.end())};
    t[p + "self_attn.o_proj.weight"] = {{C, C}, l.attn_out};
    t[p + "post_attention_layernorm.weight"] = {{C}, l.mlp_norm};
    t[p + "mlp.gate_proj.weight"] = {{F, C}, l.gate};
    t[p + "mlp.up_proj.weight"] = {{F, C}, l.up};
    t[p + "mlp.down_proj.weight"] = {{C, F}, l.down};
  }
  write_safetensors(safetensors_path(folder), t);
  const nlohmann::json config = {{"model_type", "llama"},
                                 {"num_hidden_layers", c.n_layer},
                                 {"hidden_size", C},
                                 {"num_attention_heads", H},
                                 {"num_key_value_heads", Hkv},
                                 {"intermediate_size", F},
                                 {"vocab_size", c.vocab},
                                 {"max_position_embeddings", c.n_ctx},
                                 {"rms_norm_eps", c.norm_eps},
                                 {"rope_theta", c.rope_base},
                                 {"tie_word_embeddings", c.tied_output}};
  std::ofstream((fs::path(folder) / "config.json").string()) << config.dump(2);
}

}  // namespace aigc
