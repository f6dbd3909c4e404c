// libFuzzer target: the safetensors reader on arbitrary bytes. It must accept a file or refuse
// it with SafetensorsError; anything else (a crash, a sanitizer report, another exception, a
// hang, an allocation beyond the file's size) is a bug.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "core/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The reader takes a path: the input goes to a file of this process's own.
  static const std::string path = "/tmp/aigc_fuzz_safetensors_" + std::to_string(::getpid());
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return 0;
  if (size > 0) std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    const aigc::SafetensorsFile file(path);
    for (const auto& [name, info] : file.tensors()) {
      try {
        (void)file.read_f32(name, info.shape);
      } catch (const aigc::SafetensorsError&) {
        // a non-float dtype or a non-finite weight: refused by name
      }
    }
  } catch (const aigc::SafetensorsError&) {
  }
  return 0;
}
