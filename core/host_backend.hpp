#pragma once
// The memory half of the interface for every backend that computes on the host:
// 64-byte aligned buffers (one cache line, one AVX-512 vector), plain copies.
#include "core/backend.hpp"

namespace aigc {

class HostBackend : public Backend {
 public:
  Buffer allocate(std::size_t bytes) override;
  void upload(Buffer& dst, std::span<const float> src) override;
  void download(const Buffer& src, std::span<float> dst) override;
};

}  // namespace aigc
