#pragma once
// `aigcbench generate`: greedy generation with GPT-2 on one backend, printing the token ids
// and the timings a user of a served model sees (time to first token, ms per token).
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace aigc {

struct GenerateOptions {
  std::string config = "gpt2-124m";
  std::string weights;  // a Hugging Face model.safetensors; empty: seeded random weights
  std::uint64_t seed = 1234;
  std::vector<std::string> prompt_ids;  // as typed; checked against the model's vocabulary
  std::string backend = "openmp";
  int threads = 0;  // 0: all cores for a multithreaded backend
  int count = 16;
};

// Validates everything before loading or running anything; throws InvalidArgument naming
// the option at fault.
int generate_command(const GenerateOptions& options, std::ostream& out);

}  // namespace aigc
