#pragma once
// The rmsnorm op: RMS normalization over the last dimension of x [rows, dim], fp32 (Llama's
// norm: no mean, no shift):   y = x / sqrt(mean(x^2) + eps) * gamma
#include <cstdint>

#include "core/kernels.hpp"

namespace aigc {

struct RmsnormShape {
  std::int64_t rows = 1, dim = 1;
  float eps = 1e-5f;
};

// run(x, gamma, y).
using RmsnormKernel = OpKernel<RmsnormShape, const Buffer&, const Buffer&, Buffer&>;

void require_buffers(const RmsnormShape& s, const Buffer& x, const Buffer& gamma, const Buffer& y);
// 4 FLOPs an element (square and add, two multiplies); x and y, gamma.
OpWork work_of(const RmsnormShape& s);

}  // namespace aigc
