#pragma once
// The decode form of attention: a few queries against a long KV cache.
#include "kernels/cuda/launch.hpp"

namespace aigc::cuda {

// Whether L scores fit the shared memory a block may use on this device.
bool decode_attention_fits(std::int64_t L);
void launch_attention_decode(const AttentionArgs& args, cudaStream_t stream);

}  // namespace aigc::cuda
