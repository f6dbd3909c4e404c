#pragma once
#include "core/backend.hpp"

namespace aigc::onednn {

// Attention composed from oneDNN primitives, built once and reused, per (batch, head):
//   scores = (Q . K^T) * 1/sqrt(D) + mask   a matmul with the scale and the mask as attributes
//   P      = softmax(scores) along keys      in place
//   O      = P . V                           a matmul
// Per head rather than batched: oneDNN 2.6 runs a batched matmul whose mask is broadcast
// over the batch on its reference path (hundreds of times slower), and a full-batch mask
// would double the traffic; a 2-D mask of the head's shape keeps the brgemm kernels.
// The S x L score matrix of one head is materialized.
std::unique_ptr<AttentionKernel> make_attention_kernel(const AttentionShape& shape, int threads);

}  // namespace aigc::onednn
