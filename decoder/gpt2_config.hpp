#pragma once
// GPT-2 model sizes by name. `tiny` is for tests: the same architecture, small enough
// that the scalar reference runs it in milliseconds.
#include <cstdint>
#include <string>
#include <vector>

namespace aigc {

struct Gpt2Config {
  std::string name;
  std::int64_t n_layer = 0, n_embd = 0, n_head = 0, vocab = 0, n_ctx = 0;
  std::int64_t head_dim() const { return n_embd / n_head; }
  std::int64_t parameters() const;  // with the output matrix tied to the token embedding
};

// gpt2-124m, gpt2-355m (medium), gpt2-774m (large), gpt2-1558m (xl), tiny.
std::vector<std::string> gpt2_config_names();
// Throws InvalidArgument naming `config` with the valid names.
Gpt2Config gpt2_config(const std::string& name);

}  // namespace aigc
