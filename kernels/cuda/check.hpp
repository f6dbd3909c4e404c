#pragma once
// Every CUDA runtime call's status is checked: a failure becomes an exception naming the
// call, the error and where it happened, never a crash or a silently wrong result later.
// Plain C++17, so both nvcc (kernels) and the C++20 backend code include it.
#include <cuda_runtime_api.h>

#include <stdexcept>
#include <string>

namespace aigc::cuda {

class CudaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline void check(cudaError_t status, const char* call, const char* file, int line) {
  if (status == cudaSuccess) return;
  throw CudaError(std::string("CUDA error ") + cudaGetErrorName(status) + " (" +
                  cudaGetErrorString(status) + ") in " + call + " at " + file + ":" +
                  std::to_string(line));
}

}  // namespace aigc::cuda

#define AIGC_CUDA_CHECK(call) ::aigc::cuda::check((call), #call, __FILE__, __LINE__)
// After a kernel launch: a bad configuration shows up here, not at the next sync.
#define AIGC_CUDA_CHECK_LAUNCH() \
  ::aigc::cuda::check(cudaGetLastError(), "kernel launch", __FILE__, __LINE__)
