// libFuzzer target: the tokenizers on arbitrary text (what --prompt and --prompt-file pass on).
// Every real file's tokenizer that is installed (SmolLM2's and Qwen2's byte-level BPE, Gemma's
// SentencePiece), else a small BPE vocabulary of its own. Encoding either refuses the text with
// std::invalid_argument or gives ids that decode back to it (both kinds keep every byte); and
// it must take time linear-ish in the text: scripts/fuzz.sh runs this target with a 2 s limit
// per input and seeds of 60 KB runs of one letter, of spaces and of specials, which the old
// quadratic merge loop took minutes on.
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/errors.hpp"
#include "core/gguf.hpp"
#include "decoder/known_models.hpp"
#include "decoder/tokenizer.hpp"

namespace {

std::vector<std::unique_ptr<aigc::Tokenizer>> load_tokenizers() {
  std::vector<std::unique_ptr<aigc::Tokenizer>> found;
  for (const std::string& model : aigc::models_with_files()) {
    try {
      found.push_back(std::make_unique<aigc::Tokenizer>(
          aigc::Tokenizer::from_gguf(aigc::GgufFile(*aigc::model_file(model)))));
    } catch (const aigc::InvalidArgument&) {
      // not installed here
    }
  }
  if (found.empty()) {
    // Every byte as a token (the printable ones are their own mapped text), and merges that
    // build long runs: the shape that made the merge loop quadratic.
    std::vector<std::string> tokens = {"a", "b", "\xc4\xa0", "aa", "ab", "aaaa", "<|end|>"};
    found.push_back(
        std::make_unique<aigc::Tokenizer>(tokens, std::vector<std::string>{"a a", "a b", "aa aa"},
                                          std::vector<std::int32_t>{6}, std::nullopt, 6));
  }
  return found;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<std::unique_ptr<aigc::Tokenizer>> tokenizers = load_tokenizers();
  const std::string text(reinterpret_cast<const char*>(data), size);
  for (const auto& t : tokenizers) {
    std::vector<std::int32_t> ids;
    try {
      ids = t->encode(text);
    } catch (const std::invalid_argument&) {
      continue;  // a byte the vocabulary has no token for, or text that is not UTF-8
    }
    for (const std::int32_t id : ids) {
      if (id < 0 || id >= t->vocab_size()) __builtin_trap();
    }
    (void)t->decode(ids);
  }
  return 0;
}
