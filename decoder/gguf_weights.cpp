#include "decoder/gguf_weights.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

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

// Rope in halves (qwen2's files): Q's and K's rows permuted to pairs order on load, so the
// model's rope turns them as a pairs file's (weights.hpp). `heads` 0: a tensor rope leaves.
struct RopeRows {
  std::int64_t heads = 0, head_dim = 0;
};

// Keeps the bytes of a matrix as the file stores it (its tensors, already read and checked as
// floats, concatenated: Q, K and V fuse as rows of [out, in]), a part per run of tensors in
// one format; a matrix the file keeps all in f32 is left to the floats.
void keep_stored(const GgufFile& f, DecoderWeights& w, const std::string& key,
                 const std::vector<std::string>& tensors, const std::vector<RopeRows>& rope = {}) {
  StoredMatrix m;
  bool all_f32 = true;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const GgufTensor& t = f.tensor(tensors[i]);
    const WeightFormat format = weight_format_of(t.type);
    all_f32 = all_f32 && format == WeightFormat::f32;
    std::vector<std::uint8_t> raw = f.read_raw(tensors[i]);
    const std::int64_t rows = t.dims[1];
    if (i < rope.size() && rope[i].heads > 0) {
      raw = permute_rope_rows(raw, rope[i].heads, rope[i].head_dim, row_bytes(format, t.dims[0]),
                              /*to_pairs=*/true);
    }
    if (m.parts.empty() || m.parts.back().format != format) m.parts.push_back({format, 0, {}});
    StoredPart& part = m.parts.back();
    part.rows += rows;
    part.bytes.insert(part.bytes.end(), raw.begin(), raw.end());
  }
  if (!all_f32) w.stored[key] = std::move(m);
}

}  // namespace

DecoderConfig gguf_config(const GgufFile& f, const std::string& name) {
  const std::string arch = f.get_string("general.architecture");
  DecoderConfig c;
  c.name = name;
  Architecture family{};
  if (!architecture_from_name(arch, family)) {
    throw GgufError(
        fmt::format("{}: general.architecture '{}' is not one this decoder runs "
                    "(valid: {})",
                    f.path(), arch, fmt::join(architecture_names(), ", ")));
  }
  set_architecture(c, family);
  const std::string p = arch + ".";
  c.n_layer = f.get_int(p + "block_count");
  c.n_embd = f.get_int(p + "embedding_length");
  c.n_head = f.get_int(p + "attention.head_count");
  c.n_ctx = f.get_int(p + "context_length");
  c.n_ff = f.get_int(p + "feed_forward_length");
  const GgufTensor& embedding = f.tensor("token_embd.weight");
  if (embedding.dims.size() != 2) {
    throw GgufError(fmt::format("{}: tensor 'token_embd.weight' has {} dimensions, not 2", f.path(),
                                embedding.dims.size()));
  }
  c.vocab = embedding.dims[1];
  c.tied_output = !f.has_tensor("output.weight");
  if (c.rope()) {
    c.n_kv_head = int_or(f, p + "attention.head_count_kv", c.n_head);
    c.norm_eps = static_cast<float>(f.get_float(p + "attention.layer_norm_rms_epsilon"));
    c.rope_base = f.has(p + "rope.freq_base")
                      ? static_cast<float>(f.get_float(p + "rope.freq_base"))
                      : 10000.0f;
    // A head size of its own (gemma3), the same for keys and values.
    c.n_head_dim = int_or(f, p + "attention.key_length", 0);
    if (c.n_head_dim != int_or(f, p + "attention.value_length", c.n_head_dim)) {
      throw GgufError(fmt::format("{}: {}attention.key_length {} differs from value_length {}",
                                  f.path(), p, c.n_head_dim,
                                  f.get_int(p + "attention.value_length")));
    }
    if (c.n_head_dim == c.n_embd / std::max<std::int64_t>(c.n_head, 1)) c.n_head_dim = 0;
    c.sliding_window = c.global_every > 0 ? int_or(f, p + "attention.sliding_window", 0) : 0;
    const std::int64_t D =
        c.n_head > 0 ? (c.n_head_dim > 0 ? c.n_head_dim : c.n_embd / c.n_head) : 0;
    if (D > 0 && int_or(f, p + "rope.dimension_count", D) != D) {
      throw GgufError(
          fmt::format("{}: {}rope.dimension_count {} is not the head size {} (partial "
                      "rotary embeddings are not supported)",
                      f.path(), p, f.get_int(p + "rope.dimension_count"), D));
    }
  } else {
    c.norm_eps = static_cast<float>(f.get_float(p + "attention.layer_norm_epsilon"));
  }
  // An infinite epsilon or rope base is accepted by the arithmetic and gives garbage (token 0
  // for ever): refused by key.
  auto check_range = [&](const std::string& key, double v, double lo, double hi) {
    if (!std::isfinite(v) || v < lo || v > hi) {
      throw GgufError(
          fmt::format("{}: {} is {}, outside its valid range {}..{}", f.path(), key, v, lo, hi));
    }
  };
  check_range(p + (c.rope() ? "attention.layer_norm_rms_epsilon" : "attention.layer_norm_epsilon"),
              c.norm_eps, 1e-12, 1.0);
  if (c.rope()) check_range(p + "rope.freq_base", c.rope_base, 1.0, 1e12);
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
  const std::int64_t C = c.n_embd, F = c.ff(), D = c.head_dim(), A = c.attention_width();
  w.transposed = true;
  w.token_embedding = f.read_f32("token_embd.weight", {C, c.vocab});
  if (!c.tied_output) w.output = f.read_f32("output.weight", {C, c.vocab});
  keep_stored(f, w, "output", {c.tied_output ? "token_embd.weight" : "output.weight"});
  w.final_norm = f.read_f32("output_norm.weight", {C});
  if (!c.rope()) w.position_embedding = f.read_f32("position_embd.weight", {C, c.n_ctx});
  if (c.biases) w.final_norm_bias = f.read_f32("output_norm.bias", {C});
  // Block by block, so a forged block_count fails at the first block the file lacks instead of
  // allocating room for all of them.
  for (std::int64_t i = 0; i < c.n_layer; ++i) {
    LayerWeights& l = w.layers.emplace_back();
    auto name_of = [i](const char* tensor) { return fmt::format("blk.{}.{}", i, tensor); };
    auto read = [&](const char* tensor, const Dims& dims) {
      return f.read_f32(name_of(tensor), dims);
    };
    l.attn_norm = read("attn_norm.weight", {C});
    l.attn_out = read("attn_output.weight", {A, C});
    if (c.post_norms) {
      l.post_attn_norm = read("post_attention_norm.weight", {C});
      l.post_mlp_norm = read("post_ffw_norm.weight", {C});
    }
    l.mlp_norm = read("ffn_norm.weight", {C});
    l.up = read("ffn_up.weight", {C, F});
    l.down = read("ffn_down.weight", {F, C});
    if (c.rope()) {
      // Separate Q, K and V (and their biases where the family has them), fused here.
      const bool halves = c.positions == Positions::rope_halves;
      const RopeRows q_rows{halves ? c.n_head : 0, D}, k_rows{halves ? c.kv_heads() : 0, D};
      auto rows = [&](const char* tensor, std::int64_t n, RopeRows rope, std::int64_t row) {
        std::vector<float> v = read(tensor, row == 1 ? Dims{n} : Dims{C, n});
        return rope.heads > 0 ? permute_rope_rows(v, rope.heads, D, row, true) : v;
      };
      l.qkv = rows("attn_q.weight", c.n_head * D, q_rows, C);
      append(l.qkv, rows("attn_k.weight", c.kv_heads() * D, k_rows, C));
      append(l.qkv, rows("attn_v.weight", c.kv_heads() * D, {}, C));
      if (c.qkv_bias) {
        l.qkv_bias = rows("attn_q.bias", c.n_head * D, q_rows, 1);
        append(l.qkv_bias, rows("attn_k.bias", c.kv_heads() * D, k_rows, 1));
        append(l.qkv_bias, rows("attn_v.bias", c.kv_heads() * D, {}, 1));
      }
      if (c.qk_norm) {
        // Gains per element of a head: permuted with the rows they scale.
        l.q_norm = rows("attn_q_norm.weight", D, {halves ? 1 : 0, D}, 1);
        l.k_norm = rows("attn_k_norm.weight", D, {halves ? 1 : 0, D}, 1);
      }
      l.gate = read("ffn_gate.weight", {C, F});
      keep_stored(f, w, stored_name(std::size_t(i), "qkv"),
                  {name_of("attn_q.weight"), name_of("attn_k.weight"), name_of("attn_v.weight")},
                  {q_rows, k_rows});
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
