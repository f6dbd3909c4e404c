#pragma once
// A decoder's weight matrices in a weight format (core/weight_format): the projections and the
// output matrix, each stored as [out, in] rows so that a block runs along the input dimension
// (GGUF's layout; an [in, out] projection is transposed first). The embeddings, norms and
// biases stay fp32: a token's embedding is one row, gathered, not streamed.
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/backend.hpp"
#include "core/weight_format.hpp"
#include "decoder/weights.hpp"

namespace aigc {

// How a model stores its matrices on the backend (a decoder shape's `dtype`): every projection
// in one format (the output matrix in output_format()), or `file`: each matrix as the file
// stores it, tensor by tensor (a Q4_K_M file's mix of Q4_K, Q5_0, Q6_K and Q8_0), as llama.cpp
// runs it. Converts from a WeightFormat, so a format is a dtype.
struct ModelDtype {
  ModelDtype(WeightFormat f = WeightFormat::f32) : format(f) {}  // NOLINT: a format is a dtype
  static ModelDtype file() {
    ModelDtype d;
    d.from_file = true;
    return d;
  }
  bool from_file = false;
  WeightFormat format = WeightFormat::f32;  // when not from_file
  bool is_f32() const { return !from_file && format == WeightFormat::f32; }
  std::string name() const { return from_file ? "file" : weight_format_name(format); }
  bool operator==(const ModelDtype&) const = default;
};

// "file" or a format's name; throws InvalidArgument naming `argument` with the valid names.
ModelDtype parse_model_dtype(const std::string& text, const std::string& argument);

// The [out, in] rows of a projection of `in` inputs and `out` outputs held as `transposed`
// says, stored in the format.
std::vector<std::uint8_t> store_projection(const std::vector<float>& w, std::int64_t in,
                                           std::int64_t out, bool transposed, WeightFormat f);

// The format the output matrix (its rows C = n_embd weights long) is stored in for a model
// stored in `f`, as llama.cpp's quantizer keeps it (the logits are the most sensitive product):
// q8_0 for q4_0 and q4_1 (SmolLM2's Q4_1 file holds its tied embedding in Q8_0); q6_k for q5_*
// and the K-quants below q6_k, or q8_0 where C is not a whole number of super-blocks of 256;
// `f` otherwise.
WeightFormat output_format(WeightFormat f, std::int64_t C);

// One of the model's matrices (by its name in DecoderWeights::stored: "output",
// "blk.<i>.qkv", ...) in format f: the file's bytes where the file stores it in f, else its
// fp32 values (`values`, [in, out] or [out, in] as `transposed` says) quantized.
std::vector<std::uint8_t> stored_matrix(const DecoderWeights& w, const std::string& name,
                                        const std::vector<float>& values, std::int64_t in,
                                        std::int64_t out, bool transposed, WeightFormat f);

// One of the model's matrices as the model stores it in `dtype`: one part in the dtype's
// format (stored_matrix(); the output matrix in output_format()), or with `file` the file's
// parts as they are (one f32 part for a matrix the file keeps in f32). Throws
// std::invalid_argument naming the matrix when the file's parts do not make `out` rows of `in`.
std::vector<StoredPart> matrix_parts(const DecoderWeights& w, const std::string& name,
                                     const std::vector<float>& values, std::int64_t in,
                                     std::int64_t out, bool transposed, ModelDtype dtype);

// Every format a model in `dtype` stores a matrix in (what the backend must take).
std::set<WeightFormat> formats_of(const DecoderWeights& w, ModelDtype dtype);

// How `backend` rounds each product's activations for a model in `dtype` (its operand
// rounding for each matrix's format), or nothing when a matrix's parts would round differently
// (no reference rounds a product two ways).
std::optional<MatrixRoundings> activation_roundings(const BackendDescriptor& backend,
                                                    const DecoderWeights& w, ModelDtype dtype);
// The coarsest of them (int8 blocks, then bf16, then none): what a tolerance allows for.
ActivationRounding coarsest(const MatrixRoundings& roundings);

// The fp32 weights a model stored in the dtype computes with: each matrix as matrix_parts()
// gives it, dequantized; the rest as given. A stored tied output is untied, as DecoderModel
// unties it: the embedding lookup keeps the fp32 table, the logits read the stored copy. The
// float64 reference on these is exact for the stored model.
DecoderWeights weights_as_stored(const DecoderWeights& w, ModelDtype dtype);

// Throws InvalidArgument naming `dtype` when a width the format's blocks run along (the model's
// width C, or its MLP's F) is not a whole number of blocks (nothing for `file`: the file's
// blocks fit by construction, checked as its tensors are read).
void require_format_fits(const DecoderConfig& c, ModelDtype dtype);

}  // namespace aigc
