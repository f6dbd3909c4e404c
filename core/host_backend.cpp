#include "core/host_backend.hpp"

#include <cstdlib>
#include <cstring>
#include <new>

#include <fmt/format.h>

namespace aigc {

Buffer HostBackend::allocate(std::size_t bytes) {
  constexpr std::size_t kAlignment = 64;
  const std::size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  void* p = std::aligned_alloc(kAlignment, rounded == 0 ? kAlignment : rounded);
  if (p == nullptr) throw std::bad_alloc();
  return Buffer(p, bytes, [](void* q) { std::free(q); });
}

void HostBackend::upload(Buffer& dst, std::span<const float> src) {
  if (src.size_bytes() > dst.bytes()) {
    throw std::length_error(
        fmt::format("upload of {} bytes into a buffer of {} bytes", src.size_bytes(), dst.bytes()));
  }
  std::memcpy(dst.data(), src.data(), src.size_bytes());
}

void HostBackend::download(const Buffer& src, std::span<float> dst) {
  if (dst.size_bytes() > src.bytes()) {
    throw std::length_error(fmt::format("download of {} bytes from a buffer of {} bytes",
                                        dst.size_bytes(), src.bytes()));
  }
  std::memcpy(dst.data(), src.data(), dst.size_bytes());
}

}  // namespace aigc
