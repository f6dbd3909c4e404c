#pragma once
#include <memory>

#include "core/backend.hpp"

namespace aigc::scalar {

std::unique_ptr<RopeKernel> make_rope_kernel(const RopeShape& shape);

}  // namespace aigc::scalar
