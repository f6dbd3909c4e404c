#pragma once
// What CUDA devices this process can see. Built with nvcc when the toolkit is found,
// else a fallback that says CUDA support was not built. The cuda and cublas backends use
// it for their availability.
#include <string>

namespace aigc::cuda {

struct DeviceSummary {
  int device_count = 0;
  std::string name;                          // device 0's name, empty when none
  int compute_major = 0, compute_minor = 0;  // device 0's compute capability
  std::string reason;  // why there is no usable device, empty when there is one
};

DeviceSummary query_devices();
// Device 0's free memory now, in bytes (0 without a device).
double device_free_bytes();

}  // namespace aigc::cuda
