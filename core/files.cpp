#include "core/files.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>

#include "core/errors.hpp"

namespace aigc {
namespace {

std::string temporary_beside(const std::string& path) {
  return fmt::format("{}.tmp.{}", path, ::getpid());
}

}  // namespace

void check_writable(const std::string& path, const std::string& argument) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (path.empty()) throw InvalidArgument(argument, "empty path");
  if (fs::is_directory(path, ec))
    throw InvalidArgument(argument, fmt::format("'{}' is a directory", path));
  const std::string tmp = temporary_beside(path);
  std::FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) {
    throw InvalidArgument(argument,
                          fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
  }
  std::fclose(f);
  std::remove(tmp.c_str());
}

void write_file_atomically(const std::string& path, const std::string& content) {
  const std::string tmp = temporary_beside(path);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      throw std::runtime_error(fmt::format("cannot write '{}'", tmp));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    throw std::runtime_error(fmt::format("cannot replace '{}': {}", path, why));
  }
}

}  // namespace aigc
