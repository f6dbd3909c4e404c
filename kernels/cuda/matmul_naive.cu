// Step 0 of the matmul ladder: one thread per output element, every operand read from
// global memory (caches only). Adjacent threads take adjacent columns, so B's and C's
// accesses are coalesced; A's row is a broadcast.
#include "kernels/cuda/check.hpp"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/matmul_variants.hpp"

namespace aigc::cuda {
namespace {

__global__ void matmul_naive_kernel(GemmArgs g) {
  const std::int64_t n = std::int64_t{blockIdx.x} * blockDim.x + threadIdx.x;
  const std::int64_t m = std::int64_t{blockIdx.y} * blockDim.y + threadIdx.y;
  if (m >= g.M || n >= g.N) return;
  const float* a = g.a + m * g.K;
  float acc = 0.0f;
  if (g.transpose_b) {
    const float* b = g.b + n * g.K;
    for (std::int64_t k = 0; k < g.K; ++k) acc += a[k] * b[k];
  } else {
    for (std::int64_t k = 0; k < g.K; ++k) acc += a[k] * g.b[k * g.N + n];
  }
  if (g.bias != nullptr) acc += g.bias[n];
  g.c[m * g.N + n] = acc;
}

}  // namespace

void launch_matmul_naive(const GemmArgs& g, cudaStream_t stream) {
  const dim3 block(32, 8);
  const dim3 grid(grid_dim(ceil_div(g.N, 32), "matmul N", true),
                  grid_dim(ceil_div(g.M, 8), "matmul M"));
  matmul_naive_kernel<<<grid, block, 0, stream>>>(g);
  AIGC_CUDA_CHECK_LAUNCH();
}

}  // namespace aigc::cuda
