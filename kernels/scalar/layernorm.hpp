#pragma once
#include <memory>

#include "core/backend.hpp"

namespace aigc::scalar {

std::unique_ptr<LayernormKernel> make_layernorm_kernel(const LayernormShape& shape);

}  // namespace aigc::scalar
