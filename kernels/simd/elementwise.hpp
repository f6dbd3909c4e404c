#pragma once
// The decoder's elementwise ops (residual add, GELU) with Highway, dispatched at run
// time; the openmp backend hands out ranges.
#include <cstdint>
#include <memory>

#include "core/backend.hpp"

namespace aigc::simd {

// Elements [i0, i1) of y = a + b or y = GELU(a); b is null for GELU.
void elementwise_range(ElementwiseOp op, const float* a, const float* b, float* y,
                       std::int64_t i0, std::int64_t i1);

std::unique_ptr<ElementwiseKernel> make_elementwise_kernel(const ElementwiseShape& shape);

}  // namespace aigc::simd
