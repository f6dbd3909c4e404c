#include <cuda_runtime.h>

#include <string>

#include "kernels/cuda/device_query.hpp"

namespace aigc::cuda {

DeviceSummary query_devices() {
  DeviceSummary s;
  const cudaError_t err = cudaGetDeviceCount(&s.device_count);
  if (err != cudaSuccess) {
    s.device_count = 0;
    // cudaErrorNoDevice / cudaErrorInsufficientDriver are the normal case on a CPU-only machine.
    s.reason = err == cudaErrorNoDevice || err == cudaErrorInsufficientDriver
                   ? std::string("no CUDA device")
                   : std::string("no CUDA device (") + cudaGetErrorString(err) + ")";
    return s;
  }
  if (s.device_count == 0) {
    s.reason = "no CUDA device";
    return s;
  }
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess) s.name = prop.name;
  return s;
}

}  // namespace aigc::cuda
