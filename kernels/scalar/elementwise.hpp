#pragma once
#include <memory>

#include "core/backend.hpp"

namespace aigc::scalar {

// GPT-2's GELU, tanh form, in float: the reference every backend is held to.
float gelu_tanh(float a);

std::unique_ptr<ElementwiseKernel> make_elementwise_kernel(const ElementwiseShape& shape);

}  // namespace aigc::scalar
