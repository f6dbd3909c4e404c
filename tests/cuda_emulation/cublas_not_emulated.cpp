// cuBLAS is a library, not source the emulator can run: its descriptor exists (descriptors.cpp
// defines them all) but is not listed in the emulated build (backend_list.cpp here), and
// nothing can make one.
#include <stdexcept>

#include "kernels/cuda/descriptors.hpp"

namespace aigc::cuda {

std::unique_ptr<Backend> new_cublas_backend(const BackendDescriptor&) {
  throw std::logic_error("cuBLAS is not emulated: the emulated build does not list it");
}

}  // namespace aigc::cuda
