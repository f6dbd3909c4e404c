#include "core/host_backend.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>

#include "core/buffer_checks.hpp"
#include "core/host_memory.hpp"

namespace aigc {

Buffer HostBackend::allocate(std::size_t bytes) {
  return Buffer(allocate_host(bytes), bytes, [](void* q) { std::free(q); });
}

void HostBackend::upload(Buffer& dst, std::span<const float> src) {
  require_upload_fits(dst, src.size_bytes());
  std::memcpy(dst.data(), src.data(), src.size_bytes());
}

void HostBackend::download(const Buffer& src, std::span<float> dst) {
  require_download_fits(src, dst.size_bytes());
  std::memcpy(dst.data(), src.data(), dst.size_bytes());
}

}  // namespace aigc
