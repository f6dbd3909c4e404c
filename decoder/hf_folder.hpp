#pragma once
// A Hugging Face model folder: config.json (the sizes: a model of any depth and width loads),
// model.safetensors, and the tokenizer (vocab.json + merges.txt, or tokenizer.json). GPT-2
// (model_type "gpt2", distilgpt2 included) and the Llama family (model_type "llama": Q and K
// rows are permuted on load into GGUF's adjacent-pair rope layout, as llama.cpp's converter
// does, so one rope serves both sources).
#include <string>

#include "decoder/tokenizer.hpp"
#include "decoder/weights.hpp"

namespace aigc {

// Throws InvalidArgument naming `model` for a config.json that is missing, malformed, of
// another model type, or describes no valid model.
DecoderConfig hf_folder_config(const std::string& folder);
Tokenizer hf_folder_tokenizer(const std::string& folder);
// Throws SafetensorsError naming the file and the tensor missing or mis-shaped.
DecoderWeights hf_folder_weights(const std::string& folder, const DecoderConfig& config);

// For tests and tools: Hugging Face's layout of Llama weights (the inverse of the load's
// permutation) written as model.safetensors with its config.json into `folder`.
void save_hf_llama_folder(const std::string& folder, const DecoderWeights& weights);

}  // namespace aigc
