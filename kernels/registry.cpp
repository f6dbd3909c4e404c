#include "kernels/registry.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "kernels/cuda/descriptors.hpp"

namespace aigc {

// Defined in each backend's folder (kernels/<backend>/backend.cpp; the GPU ones in
// kernels/cuda/descriptors.cpp).
const BackendDescriptor& scalar_descriptor();
const BackendDescriptor& simd_descriptor();
const BackendDescriptor& openmp_descriptor();
const BackendDescriptor& onednn_descriptor();

const std::vector<const BackendDescriptor*>& backend_descriptors() {
  static const std::vector<const BackendDescriptor*> list{
      &scalar_descriptor(), &simd_descriptor(), &openmp_descriptor(), &onednn_descriptor(),
      // GPU: the steps of our own kernels, then the vendor library.
      &cuda_naive_descriptor(), &cuda_tiled_descriptor(), &cuda_descriptor(),
      &cuda_bf16_descriptor(), &cublas_descriptor()};
  return list;
}

std::vector<std::string> backend_names() {
  std::vector<std::string> names;
  for (const BackendDescriptor* d : backend_descriptors()) names.push_back(d->name);
  return names;
}

std::vector<std::string> available_backend_names() {
  std::vector<std::string> names;
  for (const BackendDescriptor* d : backend_descriptors()) {
    if (d->availability().available) names.push_back(d->name);
  }
  return names;
}

const BackendDescriptor& find_backend(const std::string& name) {
  for (const BackendDescriptor* d : backend_descriptors()) {
    if (name == d->name) return *d;
  }
  throw InvalidArgument("backends", fmt::format("unknown backend '{}' (valid: {})", name,
                                                fmt::join(backend_names(), ", ")));
}

std::unique_ptr<Backend> make_backend(const std::string& name) { return find_backend(name).make(); }

}  // namespace aigc
