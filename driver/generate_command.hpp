#pragma once
// `aigcbench generate`: text (or token ids) in, text and token ids out, on one backend, with
// the timings a user of a served model sees (time to first token, ms per token). Several
// prompts (--prompt repeated, or --prompt-file with one per line) run as one batch: each
// prompt fills its own sequence, then every decode step runs all unfinished sequences
// together; a sequence that reaches its end-of-sequence token leaves the batch. The model is
// a file (--model: a GGUF file, or a Hugging Face GPT-2 folder with config.json,
// model.safetensors, vocab.json and merges.txt) or a named size with seeded random weights
// (--config, --weights). Greedy by default; --temperature, --top-k, --top-p sample, seeded.
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "core/backend.hpp"
#include "core/weight_format.hpp"
#include "decoder/stored_weights.hpp"

namespace aigc {

struct GenerateOptions {
  std::string model;                     // a GGUF file or a Hugging Face folder; empty: --config
  std::string config = "gpt2-124m";      // a named model, without --model
  std::string weights;                   // with --config: a model.safetensors; empty: random
  std::uint64_t seed = 1234;             // random weights' and sampling's seed
  std::vector<std::string> prompt_ids;   // as typed; checked against the model's vocabulary
  std::vector<std::string> prompts;      // texts (need a tokenizer: --model); several: a batch
  bool has_prompt = false;               // --prompt or --prompt-file given
  std::string prompt_option = "prompt";  // which of the two, for errors about the texts
  std::int64_t batch = 0;                // sequences decoded together; 0: one per prompt
  bool chat = false;                     // wrap the prompt in the model's chat template
  double temperature = 0;                // 0: greedy
  int top_k = 0;                         // 0: all tokens
  double top_p = 1;                      // 1: all tokens
  const BackendDescriptor* backend = nullptr;  // looked up once, by the command line
  int threads = 0;                             // 0: all cores for a multithreaded backend
  int count = 16;
  // How the projections are stored and computed on (decoder/stored_weights); unset: as the
  // file stores them for a GGUF --model, f32 otherwise (dtype()).
  std::optional<ModelDtype> dtype;
  WeightFormat kv_format = WeightFormat::f32;  // the KV cache's (core/kv_format.hpp)
};

// The option checks that need no model (ranges, one prompt source) are the command line's
// (driver/cli.cpp), written once there; this checks what needs the model (prompts against its
// vocabulary and context, the backend against its ops and format) before loading or running
// anything, and throws InvalidArgument naming the option at fault.
int generate_command(const GenerateOptions& options, std::ostream& out);

// Picks the next token from logits: the largest at temperature 0; otherwise a draw from
// softmax(logits / temperature) over the top_k largest (0: all), cut to the smallest set whose
// probability reaches top_p. A NaN or infinite logit throws std::runtime_error naming `step`.
std::int32_t sample_token(const std::vector<float>& logits, double temperature, int top_k,
                          double top_p, std::uint64_t& rng_state, std::int64_t step);

}  // namespace aigc
