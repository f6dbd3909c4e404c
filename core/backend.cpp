#include "core/backend.hpp"

#include <fmt/format.h>

namespace aigc {

void Backend::set_threads(int threads) {
  if (threads < 1 || threads > max_threads()) {
    throw InvalidArgument("threads",
                          fmt::format("{} is out of range for backend '{}' (valid: 1..{})", threads,
                                      name(), max_threads()));
  }
  threads_ = threads;
}

std::unique_ptr<MatmulKernel> Backend::make_matmul(const MatmulShape&) {
  throw UnsupportedOp(fmt::format("backend '{}' does not implement matmul", name()));
}

std::unique_ptr<AttentionKernel> Backend::make_attention(const AttentionShape&) {
  throw UnsupportedOp(fmt::format("backend '{}' does not implement attention", name()));
}

}  // namespace aigc
