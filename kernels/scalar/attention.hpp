#pragma once
#include "core/backend.hpp"

namespace aigc::scalar {

// The textbook formulation: the whole score tensor [B,H,S,L] is materialized, softmaxed
// row by row (maximum subtracted first), then multiplied by V. Allocating the scores
// throws InsufficientMemory when they do not fit.
std::unique_ptr<AttentionKernel> make_attention_kernel(const AttentionShape& shape);

}  // namespace aigc::scalar
