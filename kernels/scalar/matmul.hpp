#pragma once
#include "core/backend.hpp"

namespace aigc::scalar {

// The reference: plain loops, no blocking, compiled without auto-vectorization.
void matmul(const MatmulShape& shape, const float* a, const float* b, const float* bias, float* c);

// The same with B stored [N, K] in shape.b_format: each row dequantized, then dot products.
void matmul_stored(const MatmulShape& shape, const float* a, const std::uint8_t* b,
                   const float* bias, float* c);

std::unique_ptr<MatmulKernel> make_matmul_kernel(const MatmulShape& shape);

}  // namespace aigc::scalar
