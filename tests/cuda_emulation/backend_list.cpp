// The emulated build's backends: the CPU ones (the references the tests compare with) and our
// own GPU kernels on the emulated device. cuBLAS is a library, not source: it is not emulated,
// and not listed.
#include "kernels/cuda/descriptors.hpp"
#include "kernels/registry.hpp"

namespace aigc {

const std::vector<const BackendDescriptor*>& backend_descriptors() {
  static const std::vector<const BackendDescriptor*> list{
      &scalar_descriptor(), &simd_descriptor(),       &openmp_descriptor(),
      &onednn_descriptor(), &cuda_naive_descriptor(), &cuda_tiled_descriptor(),
      &cuda_descriptor(),   &cuda_bf16_descriptor()};
  return list;
}

}  // namespace aigc
