#pragma once
// One launcher per matmul variant (one .cu file each); launch_matmul picks among them.
#include "kernels/cuda/launch.hpp"

namespace aigc::cuda {

void launch_matmul_naive(const GemmArgs& g, cudaStream_t stream);
void launch_matmul_tiled(const GemmArgs& g, cudaStream_t stream);
void launch_matmul_register_blocked(const GemmArgs& g, cudaStream_t stream);
void launch_matmul_bf16(const GemmArgs& g, cudaStream_t stream);
// M <= kSmallM (launch.hpp): matrix-vector kernels; `workspace` holds
// matmul_small_m_workspace_floats(g) floats.
std::int64_t matmul_small_m_workspace_floats(const GemmArgs& g);
void launch_matmul_small_m(const GemmArgs& g, float* workspace, cudaStream_t stream);

}  // namespace aigc::cuda
