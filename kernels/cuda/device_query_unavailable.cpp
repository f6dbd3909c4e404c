#include "kernels/cuda/device_query.hpp"

namespace aigc::cuda {

DeviceSummary query_devices() {
  DeviceSummary s;
  s.reason = "CUDA support not built (no CUDA toolkit found)";
  return s;
}

double device_free_bytes() { return 0; }

}  // namespace aigc::cuda
