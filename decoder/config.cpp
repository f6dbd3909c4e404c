#include "decoder/config.hpp"

#include <cmath>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/errors.hpp"

namespace aigc {
namespace {

DecoderConfig gpt2(std::string name, std::int64_t layers, std::int64_t embd, std::int64_t heads,
                   std::int64_t vocab, std::int64_t ctx) {
  DecoderConfig c;
  c.name = std::move(name);
  c.n_layer = layers, c.n_embd = embd, c.n_head = heads, c.vocab = vocab, c.n_ctx = ctx;
  return c;
}

DecoderConfig llama(std::string name, std::int64_t layers, std::int64_t embd, std::int64_t heads,
                    std::int64_t kv_heads, std::int64_t ff, std::int64_t vocab, std::int64_t ctx,
                    float rope_base, bool tied, Architecture arch = Architecture::llama) {
  DecoderConfig c = gpt2(std::move(name), layers, embd, heads, vocab, ctx);
  set_architecture(c, arch);
  c.n_kv_head = kv_heads, c.n_ff = ff, c.rope_base = rope_base, c.tied_output = tied;
  return c;
}

DecoderConfig qwen2(std::string name, std::int64_t layers, std::int64_t embd, std::int64_t heads,
                    std::int64_t kv_heads, std::int64_t ff, std::int64_t vocab, std::int64_t ctx,
                    float rope_base, bool tied) {
  DecoderConfig c = llama(std::move(name), layers, embd, heads, kv_heads, ff, vocab, ctx, rope_base,
                          tied, Architecture::qwen2);
  c.norm_eps = 1e-6f;
  return c;
}

DecoderConfig gemma3(std::string name, std::int64_t layers, std::int64_t embd, std::int64_t heads,
                     std::int64_t kv_heads, std::int64_t head_dim, std::int64_t ff,
                     std::int64_t vocab, std::int64_t ctx, std::int64_t window,
                     std::int64_t global_every) {
  DecoderConfig c = llama(std::move(name), layers, embd, heads, kv_heads, ff, vocab, ctx,
                          1000000.0f, true, Architecture::gemma3);
  c.norm_eps = 1e-6f;
  c.n_head_dim = head_dim;
  c.sliding_window = window;
  c.global_every = global_every;
  return c;
}

struct ArchitectureTraits {
  Architecture arch;
  const char* name;
  Norm norm;
  Mlp mlp;
  Positions positions;
  bool qkv_bias, biases, qk_norm, post_norms, scaled_embedding;
  // Where local layers (a sliding window from the file's metadata) fall and how they turn:
  // every global_every-th layer is global; the others' rope base (llama.cpp's values: the
  // files do not carry them).
  std::int64_t global_every;
  float rope_base_local;
};

// One row per family: everything the forward pass does differently. (Sizes, the embedding
// scale and the window are the file's: gguf_weights.)
constexpr ArchitectureTraits kArchitectures[] = {
    {Architecture::gpt2, "gpt2", Norm::layernorm, Mlp::gelu, Positions::learned, true, true, false,
     false, false, 0, 10000.0f},
    {Architecture::llama, "llama", Norm::rmsnorm, Mlp::swiglu, Positions::rope_pairs, false, false,
     false, false, false, 0, 10000.0f},
    {Architecture::qwen2, "qwen2", Norm::rmsnorm, Mlp::swiglu, Positions::rope_halves, true, false,
     false, false, false, 0, 10000.0f},
    {Architecture::gemma3, "gemma3", Norm::rmsnorm, Mlp::geglu, Positions::rope_halves, false,
     false, true, true, true, 6, 10000.0f},
};

const ArchitectureTraits& traits(Architecture a) {
  for (const ArchitectureTraits& t : kArchitectures) {
    if (t.arch == a) return t;
  }
  throw std::logic_error("an architecture without traits");
}

const std::vector<DecoderConfig>& configs() {
  static const std::vector<DecoderConfig> all{
      gpt2("gpt2-124m", 12, 768, 12, 50257, 1024),
      gpt2("gpt2-355m", 24, 1024, 16, 50257, 1024),
      gpt2("gpt2-774m", 36, 1280, 20, 50257, 1024),
      gpt2("gpt2-1558m", 48, 1600, 25, 50257, 1024),
      // As the GGUF file's metadata says (decoder/gguf_weights checks that they agree).
      llama("smollm2-135m", 30, 576, 9, 3, 1536, 49152, 8192, 100000.0f, true),
      // Qwen2.5-Coder-0.5B-Instruct, as its Q4_K_M file's metadata says.
      qwen2("qwen2.5-coder-0.5b", 24, 896, 14, 2, 4864, 151936, 32768, 1000000.0f, false),
      // Gemma 3 270M, as its Q4_K_M file's metadata says.
      gemma3("gemma3-270m", 18, 640, 4, 1, 256, 2048, 262144, 32768, 512, 6),
      gpt2("tiny", 2, 64, 4, 97, 64),
      // Grouped (4 query heads on 2 KV heads), an untied output, a SwiGLU width that is no
      // multiple of the model's.
      llama("tiny-llama", 2, 64, 4, 2, 96, 97, 64, 10000.0f, false),
      // llama's shape with qwen2's QKV biases and rope in halves.
      qwen2("tiny-qwen2", 2, 64, 4, 2, 96, 97, 64, 10000.0f, false),
      // gemma3's arithmetic: heads of 32 (attention 128 wide on a width of 64), a local layer
      // with a window of 8 keys, then a global one.
      gemma3("tiny-gemma3", 2, 64, 4, 2, 32, 96, 97, 64, 8, 2),
  };
  return all;
}

}  // namespace

const char* architecture_name(Architecture a) { return traits(a).name; }

bool architecture_from_name(const std::string& name, Architecture& out) {
  for (const ArchitectureTraits& t : kArchitectures) {
    if (name == t.name) {
      out = t.arch;
      return true;
    }
  }
  return false;
}

std::vector<std::string> architecture_names() {
  std::vector<std::string> names;
  for (const ArchitectureTraits& t : kArchitectures) names.emplace_back(t.name);
  return names;
}

void set_architecture(DecoderConfig& c, Architecture a) {
  const ArchitectureTraits& t = traits(a);
  c.arch = a;
  c.norm = t.norm;
  c.mlp = t.mlp;
  c.positions = t.positions;
  c.qkv_bias = t.qkv_bias;
  c.biases = t.biases;
  c.qk_norm = t.qk_norm;
  c.post_norms = t.post_norms;
  c.scaled_embedding = t.scaled_embedding;
  c.global_every = t.global_every;
  c.rope_base_local = t.rope_base_local;
}

std::int64_t DecoderConfig::projection_parameters() const {
  const std::int64_t C = n_embd, Q = qkv_width(), F = ff();
  return C * Q + attention_width() * C + (gated_mlp() ? 3 : 2) * C * F;
}

std::int64_t DecoderConfig::block_parameters() const {
  const std::int64_t C = n_embd, Q = qkv_width(), F = ff();
  const std::int64_t norm = biases ? 2 * C : C;  // gain, and layernorm's shift
  const std::int64_t bias = (qkv_bias ? Q : 0) + (biases ? C + F + C : 0);
  const std::int64_t extra_norms = (post_norms ? 2 * C : 0) + (qk_norm ? 2 * head_dim() : 0);
  return 2 * norm + extra_norms + projection_parameters() + bias;
}

std::int64_t DecoderConfig::parameters() const {
  const std::int64_t C = n_embd;
  std::int64_t p = vocab * C + n_layer * block_parameters() + (biases ? 2 * C : C);
  if (!rope()) p += n_ctx * C;  // the learned position table
  if (!tied_output) p += vocab * C;
  return p;
}

void DecoderConfig::validate(const std::string& source) const {
  auto fail = [&](const std::string& why) {
    throw InvalidArgument("model", fmt::format("{}: {}", source, why));
  };
  if (n_layer < 1 || n_embd < 1 || n_head < 1 || vocab < 1 || n_ctx < 1 || n_kv_head < 0 ||
      n_ff < 0) {
    fail(
        fmt::format("sizes must be positive (layers {}, width {}, heads {}, KV heads {}, "
                    "MLP {}, vocab {}, context {})",
                    n_layer, n_embd, n_head, n_kv_head, n_ff, vocab, n_ctx));
  }
  if (n_head_dim < 0) fail(fmt::format("head size {} must be positive", n_head_dim));
  if (n_head_dim == 0 && n_embd % n_head != 0)
    fail(fmt::format("{} heads do not divide the width {}", n_head, n_embd));
  if (sliding_window < 0 || global_every < 0 || (sliding_window > 0 && !(rope_base_local > 1.0f))) {
    fail(
        fmt::format("sliding window {} (every {}th layer global, local rope base {}) must be "
                    "positive",
                    sliding_window, global_every, rope_base_local));
  }
  if (kv_heads() > n_head || n_head % kv_heads() != 0)
    fail(fmt::format("{} query heads are not a multiple of {} KV heads", n_head, kv_heads()));
  if (rope() && head_dim() % 2 != 0)
    fail(fmt::format("rope needs an even head size, not {}", head_dim()));
  if (!rope() && kv_heads() != n_head) fail("gpt2 has as many KV heads as query heads");
  if (!(norm_eps > 0.0f) || (rope() && !(rope_base > 1.0f)))
    fail(fmt::format("norm epsilon {} must be > 0 and the rope base {} > 1", norm_eps, rope_base));
}

std::vector<std::string> decoder_config_names() {
  std::vector<std::string> names;
  for (const DecoderConfig& c : configs()) names.push_back(c.name);
  return names;
}

DecoderConfig decoder_config(const std::string& name) {
  for (const DecoderConfig& c : configs()) {
    if (c.name == name) return c;
  }
  throw InvalidArgument("config", fmt::format("unknown model '{}' (valid: {})", name,
                                              fmt::join(decoder_config_names(), ", ")));
}

}  // namespace aigc
