#include "decoder/gguf_weights.hpp"

#include <fmt/format.h>

#include "core/errors.hpp"

namespace aigc {
namespace {

using Dims = std::vector<std::int64_t>;  // innermost first, as GGUF writes them

std::int64_t int_or(const GgufFile& f, const std::string& key, std::int64_t fallback) {
  return f.has(key) ? f.get_int(key) : fallback;
}

// Appends a tensor's floats (used to fuse Q, K and V: rows of [out, in] concatenate).
void append(std::vector<float>& to, const std::vector<float>& from) {
  to.insert(to.end(), from.begin(), from.end());
}

// Keeps the bytes of a matrix the file stores in a format other than f32 (its tensors, already
// read and checked as floats, concatenated: Q, K and V fuse as rows of [out, in]), when every
// part has the same format; a mixed or fp32 matrix is left to the floats.
void keep_stored(const GgufFile& f, DecoderWeights& w, const std::string& key,
                 const std::vector<std::string>& tensors) {
  const GgmlType type = f.tensor(tensors.front()).type;
  if (type == GgmlType::f32) return;
  for (const std::string& t : tensors) {
    if (f.tensor(t).type != type) return;
  }
  StoredMatrix m{weight_format_of(type), {}};
  for (const std::string& t : tensors) {
    const std::vector<std::uint8_t> raw = f.read_raw(t);
    m.bytes.insert(m.bytes.end(), raw.begin(), raw.end());
  }
  w.stored[key] = std::move(m);
}

}  // namespace

DecoderConfig gguf_config(const GgufFile& f, const std::string& name) {
  const std::string arch = f.get_string("general.architecture");
  DecoderConfig c;
  c.name = name;
  if (arch == "llama") {
    c.arch = Architecture::llama;
  } else if (arch != "gpt2") {
    throw GgufError(fmt::format("{}: general.architecture '{}' is not one this decoder runs "
                                "(valid: llama, gpt2)",
                                f.path(), arch));
  }
  const std::string p = arch + ".";
  c.n_layer = f.get_int(p + "block_count");
  c.n_embd = f.get_int(p + "embedding_length");
  c.n_head = f.get_int(p + "attention.head_count");
  c.n_ctx = f.get_int(p + "context_length");
  c.n_ff = f.get_int(p + "feed_forward_length");
  const GgufTensor& embedding = f.tensor("token_embd.weight");
  if (embedding.dims.size() != 2) {
    throw GgufError(fmt::format("{}: tensor 'token_embd.weight' has {} dimensions, not 2",
                                f.path(), embedding.dims.size()));
  }
  c.vocab = embedding.dims[1];
  c.tied_output = !f.has_tensor("output.weight");
  if (c.is_llama()) {
    c.n_kv_head = int_or(f, p + "attention.head_count_kv", c.n_head);
    c.norm_eps = static_cast<float>(f.get_float(p + "attention.layer_norm_rms_epsilon"));
    c.rope_base = f.has(p + "rope.freq_base")
                      ? static_cast<float>(f.get_float(p + "rope.freq_base"))
                      : 10000.0f;
    if (c.n_head > 0 && c.n_embd % c.n_head == 0 &&
        int_or(f, p + "rope.dimension_count", c.n_embd / c.n_head) != c.n_embd / c.n_head) {
      throw GgufError(fmt::format("{}: {}rope.dimension_count {} is not the head size {} (partial "
                                  "rotary embeddings are not supported)",
                                  f.path(), p, f.get_int(p + "rope.dimension_count"),
                                  c.n_embd / c.n_head));
    }
  } else {
    c.norm_eps = static_cast<float>(f.get_float(p + "attention.layer_norm_epsilon"));
  }
  c.validate(f.path());
  return c;
}

DecoderWeights load_gguf_weights(const GgufFile& f, const std::string& name, std::int64_t layers) {
  DecoderWeights w;
  w.config = gguf_config(f, name);
  if (layers > 0) {
    if (layers > w.config.n_layer) {
      throw InvalidArgument("layers", fmt::format("{} is out of range for {} (valid: 1..{})",
                                                  layers, f.path(), w.config.n_layer));
    }
    w.config.n_layer = layers;
  }
  const DecoderConfig& c = w.config;
  const std::int64_t C = c.n_embd, F = c.ff(), D = c.head_dim();
  w.transposed = true;
  w.token_embedding = f.read_f32("token_embd.weight", {C, c.vocab});
  if (!c.tied_output) w.output = f.read_f32("output.weight", {C, c.vocab});
  keep_stored(f, w, "output", {c.tied_output ? "token_embd.weight" : "output.weight"});
  w.final_norm = f.read_f32("output_norm.weight", {C});
  if (!c.is_llama()) {
    w.position_embedding = f.read_f32("position_embd.weight", {C, c.n_ctx});
    w.final_norm_bias = f.read_f32("output_norm.bias", {C});
  }
  // Block by block, so a forged block_count fails at the first block the file lacks instead of
  // allocating room for all of them.
  for (std::int64_t i = 0; i < c.n_layer; ++i) {
    LayerWeights& l = w.layers.emplace_back();
    auto name_of = [i](const char* tensor) { return fmt::format("blk.{}.{}", i, tensor); };
    auto read = [&](const char* tensor, const Dims& dims) {
      return f.read_f32(name_of(tensor), dims);
    };
    l.attn_norm = read("attn_norm.weight", {C});
    l.attn_out = read("attn_output.weight", {C, C});
    l.mlp_norm = read("ffn_norm.weight", {C});
    l.up = read("ffn_up.weight", {C, F});
    l.down = read("ffn_down.weight", {F, C});
    if (c.is_llama()) {
      l.qkv = read("attn_q.weight", {C, c.n_head * D});
      append(l.qkv, read("attn_k.weight", {C, c.kv_heads() * D}));
      append(l.qkv, read("attn_v.weight", {C, c.kv_heads() * D}));
      l.gate = read("ffn_gate.weight", {C, F});
      keep_stored(f, w, stored_name(std::size_t(i), "qkv"),
                  {name_of("attn_q.weight"), name_of("attn_k.weight"), name_of("attn_v.weight")});
      keep_stored(f, w, stored_name(std::size_t(i), "gate"), {name_of("ffn_gate.weight")});
    } else {
      l.attn_norm_bias = read("attn_norm.bias", {C});
      l.qkv = read("attn_qkv.weight", {C, 3 * C});
      l.qkv_bias = read("attn_qkv.bias", {3 * C});
      l.attn_out_bias = read("attn_output.bias", {C});
      l.mlp_norm_bias = read("ffn_norm.bias", {C});
      l.up_bias = read("ffn_up.bias", {F});
      l.down_bias = read("ffn_down.bias", {C});
      keep_stored(f, w, stored_name(std::size_t(i), "qkv"), {name_of("attn_qkv.weight")});
    }
    keep_stored(f, w, stored_name(std::size_t(i), "attn_out"), {name_of("attn_output.weight")});
    keep_stored(f, w, stored_name(std::size_t(i), "up"), {name_of("ffn_up.weight")});
    keep_stored(f, w, stored_name(std::size_t(i), "down"), {name_of("ffn_down.weight")});
  }
  return w;
}

}  // namespace aigc
