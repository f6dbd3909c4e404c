#pragma once
// The decode form of attention: a few queries against a long KV cache, split across blocks.
#include "kernels/cuda/launch.hpp"

namespace aigc::cuda {

// How a decode launch of `a` splits the cache (flash-decoding): `splits` blocks per query, each
// over `chunk` keys; the workspace holds each split's partial output, maximum and sum.
struct DecodeSplit {
  std::int64_t splits = 1, chunk = 1;
  std::int64_t workspace_floats = 0;
};
DecodeSplit plan_decode_split(const AttentionArgs& a);
// `workspace`: plan_decode_split(a).workspace_floats floats of device memory.
void launch_attention_decode(const AttentionArgs& a, float* workspace, cudaStream_t stream);

}  // namespace aigc::cuda
