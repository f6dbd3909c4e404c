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

std::unique_ptr<LayernormKernel> Backend::make_layernorm(const LayernormShape&) {
  throw UnsupportedOp(fmt::format("backend '{}' does not implement layernorm", name()));
}

std::unique_ptr<ElementwiseKernel> Backend::make_elementwise(const ElementwiseShape&) {
  throw UnsupportedOp(fmt::format("backend '{}' does not implement elementwise ops", name()));
}

void Backend::embed(std::span<const std::int32_t>, std::int64_t, std::int64_t, const Buffer&,
                    const Buffer&, Buffer&) {
  throw UnsupportedOp(fmt::format("backend '{}' does not implement embed", name()));
}

void Backend::split_heads(const HeadsShape&, std::int64_t, const Buffer&, Buffer&, Buffer&,
                          Buffer&) {
  throw UnsupportedOp(fmt::format("backend '{}' does not implement split_heads", name()));
}

void Backend::merge_heads(const HeadsShape&, const Buffer&, Buffer&) {
  throw UnsupportedOp(fmt::format("backend '{}' does not implement merge_heads", name()));
}

void Backend::copy(const Buffer&, std::size_t, Buffer&, std::size_t, std::size_t) {
  throw UnsupportedOp(fmt::format("backend '{}' does not implement copy", name()));
}

}  // namespace aigc

namespace aigc {

std::unique_ptr<RecordedOps> Backend::record(const std::function<void()>&) { return nullptr; }

}  // namespace aigc
