// Whether the GPU backends can run here, built with or without the CUDA toolkit (the device
// query says which).
#include <fmt/format.h>

#include "kernels/cuda/descriptors.hpp"
#include "kernels/cuda/device_query.hpp"

namespace aigc::cuda {

Availability device_availability() {
  const DeviceSummary s = query_devices();
  if (s.device_count == 0) return {false, s.reason};
  if (s.compute_major < 8) {
    return {false, fmt::format("{} has compute capability {}.{}; the kernels are built for 8.0 "
                               "and 9.0 (Ampere, Hopper)",
                               s.name, s.compute_major, s.compute_minor)};
  }
  return {};
}

std::string device_target() {
  const DeviceSummary s = query_devices();
  return s.device_count > 0 ? fmt::format("sm_{}{}", s.compute_major, s.compute_minor) : "none";
}

}  // namespace aigc::cuda
