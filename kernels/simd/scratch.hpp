#pragma once
// Per-thread scratch for the packed tiles of the simd kernels, grown on demand and kept:
// allocating (and page-faulting) it on every call would dominate small problems.
#include <hwy/aligned_allocator.h>

#include <cstddef>

namespace aigc::simd {

class Scratch {
 public:
  float* get(std::size_t floats) {
    if (floats > capacity_) {
      buffer_ = hwy::AllocateAligned<float>(floats);
      capacity_ = floats;
    }
    return buffer_.get();
  }

 private:
  hwy::AlignedFreeUniquePtr<float[]> buffer_;
  std::size_t capacity_ = 0;
};

}  // namespace aigc::simd
