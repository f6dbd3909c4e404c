#pragma once
// What several tests share: where the committed test data is, reading a file whole, and a
// temporary file removed when it goes out of scope.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

// The committed test data: where the build found it, or AIGC_TEST_DATA_DIR when the binary runs
// from another checkout (scripts/gpu-check.sh --bundle sets it).
inline std::string test_data_dir() {
  const char* moved = std::getenv("AIGC_TEST_DATA_DIR");
  return moved != nullptr && *moved != '\0' ? moved : AIGC_TEST_DATA_DIR;
}

// The real model files scripts/fetch_models.py assembles (scripts/setup.sh runs it), or
// AIGC_MODELS_DIR.
inline std::string models_dir() {
  const char* moved = std::getenv("AIGC_MODELS_DIR");
  return moved != nullptr && *moved != '\0' ? moved : AIGC_DEFAULT_MODELS_DIR;
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct TempFile {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("aigc_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++)))
                         .string();
  static inline int counter = 0;
  explicit TempFile(const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }
  TempFile() = default;
  ~TempFile() { std::filesystem::remove(path); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
};
