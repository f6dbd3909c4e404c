#pragma once
// A decoder from a GGUF file (llama.cpp's format): the architecture and sizes from its
// metadata, the weights dequantized to fp32 (core/gguf), the matrices also kept as stored.
// `gpt2`, `llama` and `qwen2` files load; every
// tensor's shape is checked against the metadata, and a missing tensor or key is a GgufError
// naming the file and it.
#include <cstdint>
#include <string>

#include "core/gguf.hpp"
#include "decoder/weights.hpp"

namespace aigc {

// The model the file describes, named `name`.
DecoderConfig gguf_config(const GgufFile& file, const std::string& name);
// Its weights (transposed: GGUF keeps projections [out, in]); only the first `layers` blocks
// when layers > 0 (a benchmark's unit, a short test model).
DecoderWeights load_gguf_weights(const GgufFile& file, const std::string& name,
                                 std::int64_t layers = 0);

}  // namespace aigc
