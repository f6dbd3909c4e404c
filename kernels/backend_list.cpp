// The backends a build offers, in the order runs and listings show them. Kept apart from the
// look-ups in registry.cpp so that a build with other backends (the tests' CUDA emulation,
// tests/cuda_emulation) lists its own with the same look-ups.
#include "kernels/cuda/descriptors.hpp"
#include "kernels/registry.hpp"

namespace aigc {

const std::vector<const BackendDescriptor*>& backend_descriptors() {
  static const std::vector<const BackendDescriptor*> list{
      &scalar_descriptor(), &simd_descriptor(), &openmp_descriptor(), &onednn_descriptor(),
      // GPU: the steps of our own kernels, then the vendor library.
      &cuda_naive_descriptor(), &cuda_tiled_descriptor(), &cuda_descriptor(),
      &cuda_bf16_descriptor(), &cublas_descriptor()};
  return list;
}

}  // namespace aigc
