#pragma once
// Every CUDA runtime call's status is checked: a failure becomes an exception naming the
// call, the error and where it happened, never a crash or a silently wrong result later.
// Plain C++17, so both nvcc (kernels) and the C++20 backend code include it.
#include <cuda_runtime_api.h>

#include <stdexcept>
#include <string>

#include "core/errors.hpp"

namespace aigc::cuda {

class CudaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The errors after which the context is unusable until the process ends (the CUDA runtime
// API's "sticky" errors): every later call returns them again.
inline bool is_sticky(cudaError_t status) {
  switch (status) {
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure:
    case cudaErrorHardwareStackError:
    case cudaErrorIllegalInstruction:
    case cudaErrorMisalignedAddress:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc:
    case cudaErrorAssert:
    case cudaErrorLaunchTimeout:
    case cudaErrorECCUncorrectable:
      return true;
    default:
      return false;
  }
}

inline std::string describe(cudaError_t status, const char* call, const char* file, int line) {
  return std::string("CUDA error ") + cudaGetErrorName(status) + " (" + cudaGetErrorString(status) +
         ") in " + call + " at " + file + ":" + std::to_string(line);
}

inline void check(cudaError_t status, const char* call, const char* file, int line) {
  if (status == cudaSuccess) return;
  if (is_sticky(status)) throw DeviceFault(describe(status, call, file, line));
  throw CudaError(describe(status, call, file, line));
}

}  // namespace aigc::cuda

#define AIGC_CUDA_CHECK(call) ::aigc::cuda::check((call), #call, __FILE__, __LINE__)
// After a kernel launch: a bad configuration shows up here, not at the next sync.
#define AIGC_CUDA_CHECK_LAUNCH() \
  ::aigc::cuda::check(cudaGetLastError(), "kernel launch", __FILE__, __LINE__)
