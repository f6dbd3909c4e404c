#pragma once
#include <memory>

#include "core/kernels.hpp"

namespace aigc::scalar {

std::unique_ptr<RmsnormKernel> make_rmsnorm_kernel(const RmsnormShape& shape);

}  // namespace aigc::scalar
