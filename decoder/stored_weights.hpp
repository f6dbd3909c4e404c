#pragma once
// A decoder's weight matrices in a weight format (core/weight_format): the projections and the
// output matrix, each stored as [out, in] rows so that a block runs along the input dimension
// (GGUF's layout; an [in, out] projection is transposed first). The embeddings, norms and
// biases stay fp32: a token's embedding is one row, gathered, not streamed.
#include <cstdint>
#include <vector>

#include "core/weight_format.hpp"
#include "decoder/weights.hpp"

namespace aigc {

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

// The fp32 weights a model stored in the format computes with: every projection in f, the
// output matrix in output_format(f), each as stored_matrix() gives it, dequantized; the rest as
// given. A tied output is untied, as DecoderModel unties it: the embedding lookup keeps the
// fp32 table, the logits read the stored copy. The float64 reference on these is exact for the
// stored model.
DecoderWeights weights_as_stored(const DecoderWeights& w, WeightFormat f);

// Throws InvalidArgument naming `dtype` when a width the format's blocks run along (the model's
// width C, or its MLP's F) is not a whole number of blocks.
void require_format_fits(const DecoderConfig& c, WeightFormat f);

}  // namespace aigc
