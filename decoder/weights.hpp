#pragma once
// A decoder's weights on the host, fp32, for either architecture (decoder/config.hpp). The
// projections are stored one of two ways, as their files keep them: [in, out] (Hugging Face
// GPT-2's Conv1D: y = x W, a plain row-major matmul) or, with `transposed`, [out, in] (torch's
// Linear and GGUF: y = x W^T, a matmul with transpose_b). The model and the reference take
// both, so neither layout is copied on load.
#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/weight_format.hpp"
#include "decoder/config.hpp"

namespace aigc {

struct LayerWeights {
  std::vector<float> attn_norm, attn_norm_bias;  // [C]; the bias only with layernorm (gpt2)
  // Q, K and V fused: [C, (H + 2 Hkv) D] (rows of the transposed layout: Q's, then K's, V's);
  // its bias where the family has one (gpt2, qwen2).
  std::vector<float> qkv, qkv_bias;
  std::vector<float> attn_out, attn_out_bias;        // [A, C] (A = H D: C but where D is its own)
  std::vector<float> q_norm, k_norm;                 // [D]: per-head RMSNorm gains (gemma3)
  std::vector<float> post_attn_norm, post_mlp_norm;  // [C]: after attention, after the MLP
  std::vector<float> mlp_norm, mlp_norm_bias;        // [C]
  std::vector<float> up, up_bias;                    // [C, F]: gpt2's c_fc, llama's up
  std::vector<float> gate;                           // [C, F]: llama's SwiGLU gate (empty for gpt2)
  std::vector<float> down, down_bias;                // [F, C]
};

// A run of rows of a matrix as a file stores them: [rows, in] in one format (core/
// weight_format), a block running along `in`.
struct StoredPart {
  WeightFormat format = WeightFormat::f32;
  std::int64_t rows = 0;
  std::vector<std::uint8_t> bytes;
};

// A matrix as a file stores it, [out, in]: one part, or several where a fused matrix's tensors
// are stored in different formats (a Q4_K_M file's Q and K in Q5_0 with V in Q8_0).
struct StoredMatrix {
  std::vector<StoredPart> parts;
  // The format of a matrix stored whole in one, else nothing.
  std::optional<WeightFormat> single_format() const {
    if (parts.size() != 1) return std::nullopt;
    return parts.front().format;
  }
};

// Hugging Face's rotate_half (and GGUF's qwen2 files, rope in halves) pairs element i of a head
// with i + D/2; our rope pairs 2i with 2i + 1. Row 2i + j of a head in pairs order is row
// j D/2 + i in halves order, for the rows of Q's and K's [out, in] projections (and their
// biases, rows of one element). `row`: the elements of one row (floats, or a stored row's
// bytes); `to_pairs`: from halves to pairs order, else back.
template <typename T>
std::vector<T> permute_rope_rows(const std::vector<T>& w, std::int64_t heads, std::int64_t D,
                                 std::int64_t row, bool to_pairs) {
  std::vector<T> out(w.size());
  for (std::int64_t h = 0; h < heads; ++h) {
    for (std::int64_t i = 0; i < D / 2; ++i) {
      for (std::int64_t j = 0; j < 2; ++j) {
        const std::int64_t pairs_row = h * D + 2 * i + j, halves_row = h * D + j * (D / 2) + i;
        const std::int64_t from = to_pairs ? halves_row : pairs_row;
        const std::int64_t to = to_pairs ? pairs_row : halves_row;
        std::copy(w.begin() + from * row, w.begin() + (from + 1) * row, out.begin() + to * row);
      }
    }
  }
  return out;
}

struct DecoderWeights {
  DecoderConfig config;
  bool transposed = false;                // projections [out, in] rather than [in, out]
  std::vector<float> token_embedding;     // [vocab, C], also the output matrix when tied
  std::vector<float> position_embedding;  // [n_ctx, C], gpt2 only
  std::vector<LayerWeights> layers;
  std::vector<float> final_norm, final_norm_bias;  // [C]; the bias only with layernorm
  std::vector<float> output;                       // [vocab, C] when not tied
  // The matrices the file stores in a format other than f32, as stored, by name: "output" (the
  // output matrix, the token embedding when tied) and "blk.<i>.<qkv|attn_out|up|gate|down>".
  // The float vectors above hold the same weights dequantized; a model run in a matrix's own
  // format uploads these bytes as they are (decoder/stored_weights). A matrix the file keeps
  // in fp32 whole is not here.
  std::map<std::string, StoredMatrix> stored;
  const std::vector<float>& output_matrix() const {
    return config.tied_output ? token_embedding : output;
  }
  // Throws std::invalid_argument naming the first tensor whose size disagrees with the config.
  void check_sizes() const;
};

// The name a layer's matrix has in DecoderWeights::stored: "blk.<layer>.<matrix>", matrix one of
// qkv, attn_out, up, gate, down.
std::string stored_name(std::size_t layer, const char* matrix);

// How each product rounds its activations before it multiplies, by its matrix's name
// (stored_name(): "blk.<i>.qkv", ..., and "output"); a name not in the map: not rounded.
using MatrixRoundings = std::map<std::string, ActivationRounding>;

// GPT-2's initialization (normal, std 0.02; residual projections scaled by 1/sqrt(2 n_layer);
// norm gains 1 and biases 0), seeded, for either architecture. Biases and gains get small
// random values too, so that a kernel ignoring one cannot pass a test. Llama weights come
// transposed, as a GGUF file holds them.
DecoderWeights random_weights(const DecoderConfig& config, std::uint64_t seed);

// A GPT-2 model.safetensors checkpoint, by Hugging Face's names with or without the
// "transformer." prefix; throws SafetensorsError naming the file and the tensor that is missing
// or mis-shaped.
DecoderWeights load_gpt2_safetensors(const std::string& path, const DecoderConfig& config);
// Writes GPT-2 weights (not transposed) under Hugging Face's names, e.g. for tests.
void save_gpt2_safetensors(const std::string& path, const DecoderWeights& weights);

// The first `layers` blocks of a model (a benchmark's unit, a test's short model).
DecoderWeights first_layers(const DecoderWeights& weights, std::int64_t layers);

}  // namespace aigc
