#include "kernels/registry.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace aigc {

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
