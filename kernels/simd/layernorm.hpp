#pragma once
// Layer normalization with Highway, dispatched at run time; rows are independent, so the
// openmp backend hands out row ranges.
#include <cstdint>
#include <memory>

#include "core/backend.hpp"

namespace aigc::simd {

// Normalizes rows [r0, r1) of x [rows, dim] into y.
void layernorm_rows(const LayernormShape& shape, const float* x, const float* gamma,
                    const float* beta, float* y, std::int64_t r0, std::int64_t r1);

std::unique_ptr<LayernormKernel> make_layernorm_kernel(const LayernormShape& shape);

}  // namespace aigc::simd
