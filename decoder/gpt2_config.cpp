#include "decoder/gpt2_config.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/errors.hpp"

namespace aigc {
namespace {

const std::vector<Gpt2Config>& configs() {
  static const std::vector<Gpt2Config> all{
      {"gpt2-124m", 12, 768, 12, 50257, 1024},
      {"gpt2-355m", 24, 1024, 16, 50257, 1024},
      {"gpt2-774m", 36, 1280, 20, 50257, 1024},
      {"gpt2-1558m", 48, 1600, 25, 50257, 1024},
      {"tiny", 2, 64, 4, 97, 64},
  };
  return all;
}

}  // namespace

std::int64_t Gpt2Config::parameters() const {
  const std::int64_t C = n_embd;
  const std::int64_t per_layer =
      2 * C + (C * 3 * C + 3 * C) + (C * C + C) + 2 * C + (C * 4 * C + 4 * C) + (4 * C * C + C);
  return vocab * C + n_ctx * C + n_layer * per_layer + 2 * C;
}

std::vector<std::string> gpt2_config_names() {
  std::vector<std::string> names;
  for (const Gpt2Config& c : configs()) names.push_back(c.name);
  return names;
}

Gpt2Config gpt2_config(const std::string& name) {
  for (const Gpt2Config& c : configs()) {
    if (c.name == name) return c;
  }
  throw InvalidArgument("config", fmt::format("unknown model '{}' (valid: {})", name,
                                              fmt::join(gpt2_config_names(), ", ")));
}

}  // namespace aigc
