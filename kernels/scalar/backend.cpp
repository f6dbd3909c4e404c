// The scalar backend: host memory, and the kernels its op files (<op>.cpp beside this one)
// register in its table.
#include "kernels/scalar/backend.hpp"

#include "core/host_backend.hpp"

namespace aigc {

KernelTable& scalar::kernels() {
  static KernelTable table("scalar");
  return table;
}

// Listed in kernels/registry.cpp.
const BackendDescriptor& scalar_descriptor() {
  static const BackendDescriptor d{
      .name = "scalar",
      .description = "plain loops, one thread, auto-vectorization off: the reference and baseline",
      .compute_class = ComputeClass::scalar_core,
      .kernels = [] { return &scalar::kernels(); },
      .weight_formats = {std::begin(kAllWeightFormats), std::end(kAllWeightFormats)},
      .make = [] { return std::unique_ptr<Backend>(new HostBackend(scalar_descriptor())); }};
  return d;
}

}  // namespace aigc
