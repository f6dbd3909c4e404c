#include "kernels/cuda/device_query.hpp"

namespace aigc::cuda {

DeviceSummary query_devices() { return {0, "", "CUDA support not built (no CUDA toolkit found)"}; }

}  // namespace aigc::cuda
