#include <cuda_runtime.h>

#include <string>

#include "kernels/cuda/device_query.hpp"

namespace aigc::cuda {

namespace {

DeviceSummary query_once() {
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
  if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess) {
    s.name = prop.name;
    s.compute_major = prop.major;
    s.compute_minor = prop.minor;
  }
  return s;
}

}  // namespace

double device_free_bytes() {
  if (query_devices().device_count == 0) return 0;
  std::size_t free = 0, total = 0;
  if (cudaMemGetInfo(&free, &total) != cudaSuccess) return 0;
  return static_cast<double>(free);
}

DeviceSummary query_devices() {
  // Asked often (availability, names); the answer does not change within a process.
  static const DeviceSummary summary = query_once();
  return summary;
}

}  // namespace aigc::cuda
