#pragma once
// RMS normalization with Highway, dispatched at run time; rows are independent, so the
// openmp backend hands out row ranges.
#include <cstdint>
#include <memory>

#include "core/ops/rmsnorm.hpp"

namespace aigc::simd {

// Normalizes rows [r0, r1) of x [rows, dim] into y.
void rmsnorm_rows(const RmsnormShape& shape, const float* x, const float* gamma, float* y,
                  std::int64_t r0, std::int64_t r1);

std::unique_ptr<RmsnormKernel> make_rmsnorm_kernel(const RmsnormShape& shape);

}  // namespace aigc::simd
