#pragma once
// Layernorm, GELU and the residual add as oneDNN primitives (layer_normalization_forward,
// eltwise gelu_tanh, binary add), created once per shape.
#include <memory>

#include "core/backend.hpp"

namespace aigc::onednn {

std::unique_ptr<LayernormKernel> make_layernorm_kernel(const LayernormShape& shape, int threads);
std::unique_ptr<ElementwiseKernel> make_elementwise_kernel(const ElementwiseShape& shape,
                                                           int threads);

}  // namespace aigc::onednn
