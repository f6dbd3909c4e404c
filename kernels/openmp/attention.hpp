#pragma once
#include "core/backend.hpp"

namespace aigc::openmp {

// The fused simd attention, parallel over (batch, head, query block).
std::unique_ptr<AttentionKernel> make_attention_kernel(const AttentionShape& shape, int threads);

}  // namespace aigc::openmp
