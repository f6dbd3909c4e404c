#pragma once
// The one list of backends. Adding a backend: a folder under kernels/, a factory,
// and one line in registry.cpp.
#include <memory>
#include <string>
#include <vector>

#include "core/backend.hpp"

namespace aigc {

// Every backend this build knows, in reporting order (the reference first).
std::vector<std::string> backend_names();
// Those whose availability() says they can run on this machine (no GPU: the CPU ones).
std::vector<std::string> available_backend_names();
// Throws InvalidArgument("backends", ...) for an unknown name.
std::unique_ptr<Backend> make_backend(const std::string& name);

}  // namespace aigc
