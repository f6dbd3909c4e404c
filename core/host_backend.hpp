#pragma once
// The memory half of the interface for every backend that computes on the host:
// 64-byte aligned buffers (one cache line, one AVX-512 vector), plain copies, and the
// decoder's data movement (core/host_data_movement), which is memcpy-bound and the same on
// every CPU backend.
#include "core/backend.hpp"
#include "core/host_data_movement.hpp"

namespace aigc {

class HostBackend : public Backend {
 public:
  using Backend::Backend;
  Buffer allocate(std::size_t bytes) override;
  void upload(Buffer& dst, std::span<const float> src) override;
  void download(const Buffer& src, std::span<float> dst) override;
  DataMovement& moves() override { return moves_; }

 private:
  HostDataMovement moves_;
};

}  // namespace aigc
