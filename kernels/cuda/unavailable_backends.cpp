// Built instead of the GPU backends when no CUDA toolkit was found: the descriptors stay
// listed (so `aigcbench list` and a run say why they cannot run: their availability says
// CUDA support was not built), and nothing can make one.
#include <stdexcept>

#include <fmt/format.h>

#include "kernels/cuda/descriptors.hpp"

namespace aigc::cuda {

std::unique_ptr<Backend> new_cuda_backend(const BackendDescriptor& d) {
  throw std::runtime_error(
      fmt::format("backend '{}' unavailable: {}", d.name, d.availability().reason));
}

std::unique_ptr<Backend> new_cublas_backend(const BackendDescriptor& d) {
  return new_cuda_backend(d);
}

}  // namespace aigc::cuda
