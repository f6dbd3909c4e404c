// libFuzzer target: the GGUF reader on arbitrary bytes, then what reads a model out of it (the
// decoder's config and the tokenizer). Each must accept a file or refuse it with GgufError (a
// config of impossible sizes: InvalidArgument; a text the vocabulary cannot spell:
// std::invalid_argument); anything else (a crash, a sanitizer report, another exception, a
// hang, an allocation beyond the file's size) is a bug.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "core/errors.hpp"
#include "core/gguf.hpp"
#include "decoder/gguf_weights.hpp"
#include "decoder/tokenizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The reader takes a path: the input goes to a file of this process's own.
  static const std::string path = "/tmp/aigc_fuzz_gguf_" + std::to_string(::getpid());
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return 0;
  if (size > 0) std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    const aigc::GgufFile file(path);
    for (const auto& [key, value] : file.metadata()) {
      try {
        (void)file.get_int(key);
      } catch (const aigc::GgufError&) {
        // not an integer: refused by name
      }
    }
    for (const aigc::GgufTensor& t : file.tensors()) (void)file.read_f32(t.name, t.dims);
    try {
      (void)aigc::gguf_config(file, "fuzzed");
    } catch (const aigc::GgufError&) {
    } catch (const aigc::InvalidArgument&) {
    }
    const aigc::Tokenizer tokenizer = aigc::Tokenizer::from_gguf(file);
    try {
      const auto ids = tokenizer.encode("Hello, world! 123 <|im_end|>");
      (void)tokenizer.decode(ids);
    } catch (const std::invalid_argument&) {
    }
  } catch (const aigc::GgufError&) {
  }
  return 0;
}
