#pragma once
// The one list of backends, as descriptors: what each is, what it offers and whether it can
// run here, asked without building one. Adding a backend: a folder under kernels/ with its
// descriptor, and one line in registry.cpp.
#include <memory>
#include <string>
#include <vector>

#include "core/backend.hpp"

namespace aigc {

// Every backend this build knows, in reporting order (the reference first).
// Every backend this build offers (kernels/backend_list.cpp), in listing order.
const std::vector<const BackendDescriptor*>& backend_descriptors();
// The CPU backends' descriptors, each defined in its folder (kernels/<backend>/backend.cpp);
// the GPU ones are in kernels/cuda/descriptors.hpp.
const BackendDescriptor& scalar_descriptor();
const BackendDescriptor& simd_descriptor();
const BackendDescriptor& openmp_descriptor();
const BackendDescriptor& onednn_descriptor();
// Throws InvalidArgument("backends", ...) naming the valid ones for an unknown name.
const BackendDescriptor& find_backend(const std::string& name);

std::vector<std::string> backend_names();
// Those whose availability() says they can run on this machine (no GPU: the CPU ones).
std::vector<std::string> available_backend_names();
// find_backend(name).make(): only a case that runs builds a backend.
std::unique_ptr<Backend> make_backend(const std::string& name);

}  // namespace aigc
