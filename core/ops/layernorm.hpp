#pragma once
// The layernorm op: layer normalization over the last dimension of x [rows, dim], fp32:
//   y = (x - mean) / sqrt(var + eps) * gamma + beta   (var: the biased variance, as GPT-2).
#include <cstdint>

#include "core/kernels.hpp"

namespace aigc {

struct LayernormShape {
  std::int64_t rows = 1, dim = 1;
  float eps = 1e-5f;
};

// run(x, gamma, beta, y).
using LayernormKernel =
    OpKernel<LayernormShape, const Buffer&, const Buffer&, const Buffer&, Buffer&>;

void require_buffers(const LayernormShape& s, const Buffer& x, const Buffer& gamma,
                     const Buffer& beta, const Buffer& y);
// 7 FLOPs an element (mean, deviation and its square, scale and shift); x and y, gamma and beta.
OpWork work_of(const LayernormShape& s);

}  // namespace aigc
