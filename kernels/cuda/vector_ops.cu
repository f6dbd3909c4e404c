// The decoder's non-matmul arithmetic: layernorm, rmsnorm, residual add, GELU, and a fill for
// poisoning buffers. All memory-bound; each reads and writes its data once (layernorm
// re-reads its row from cache).
#include <cmath>

#include "kernels/cuda/check.hpp"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/launch.hpp"
#include "kernels/cuda/reduce.cuh"

namespace aigc::cuda {
namespace {

constexpr int kThreads = 256;

// Grid-stride launches: enough blocks to fill any GPU, never past the grid limit.
unsigned stride_blocks(std::int64_t n) {
  return static_cast<unsigned>(min64(ceil_div(n, kThreads), std::int64_t{1} << 20));
}

// One block per row; two passes (mean, then the variance of x - mean) as the CPU
// backends do, rather than E[x^2] - E[x]^2, which cancels for rows far from zero.
__global__ void __launch_bounds__(kThreads)
    layernorm_kernel(const float* x, const float* gamma, const float* beta, float* y,
                     std::int64_t dim, float eps) {
  __shared__ float scratch[32];
  const float* xr = x + std::int64_t{blockIdx.x} * dim;
  float* yr = y + std::int64_t{blockIdx.x} * dim;
  float sum = 0.0f;
  for (std::int64_t c = threadIdx.x; c < dim; c += kThreads) sum += xr[c];
  const float mean = block_reduce<false>(sum, scratch) / float(dim);
  float sq = 0.0f;
  for (std::int64_t c = threadIdx.x; c < dim; c += kThreads) {
    const float d = xr[c] - mean;
    sq += d * d;
  }
  const float var = block_reduce<false>(sq, scratch) / float(dim);
  const float rstd = 1.0f / sqrtf(var + eps);
  for (std::int64_t c = threadIdx.x; c < dim; c += kThreads) {
    yr[c] = (xr[c] - mean) * rstd * gamma[c] + beta[c];
  }
}

// One block per row: the sum of squares, then the scaled row (Llama's RMSNorm, no mean).
__global__ void __launch_bounds__(kThreads)
    rmsnorm_kernel(const float* x, const float* gamma, float* y, std::int64_t dim, float eps) {
  __shared__ float scratch[32];
  const float* xr = x + std::int64_t{blockIdx.x} * dim;
  float* yr = y + std::int64_t{blockIdx.x} * dim;
  float sq = 0.0f;
  for (std::int64_t c = threadIdx.x; c < dim; c += kThreads) sq += xr[c] * xr[c];
  const float rstd = 1.0f / sqrtf(block_reduce<false>(sq, scratch) / float(dim) + eps);
  for (std::int64_t c = threadIdx.x; c < dim; c += kThreads) yr[c] = xr[c] * rstd * gamma[c];
}

__global__ void add_kernel(const float* a, const float* b, float* y, std::int64_t n) {
  for (std::int64_t e = std::int64_t{blockIdx.x} * blockDim.x + threadIdx.x; e < n;
       e += std::int64_t{gridDim.x} * blockDim.x) {
    y[e] = a[e] + b[e];
  }
}

__global__ void gelu_tanh_kernel(const float* a, float* y, std::int64_t n) {
  constexpr float kSqrt2OverPi = 0.7978845608028654f;
  for (std::int64_t e = std::int64_t{blockIdx.x} * blockDim.x + threadIdx.x; e < n;
       e += std::int64_t{gridDim.x} * blockDim.x) {
    const float v = a[e];
    y[e] = 0.5f * v * (1.0f + tanhf(kSqrt2OverPi * (v + 0.044715f * v * v * v)));
  }
}

__global__ void fill_kernel(float* y, std::int64_t n, float value) {
  for (std::int64_t e = std::int64_t{blockIdx.x} * blockDim.x + threadIdx.x; e < n;
       e += std::int64_t{gridDim.x} * blockDim.x) {
    y[e] = value;
  }
}

}  // namespace

void launch_layernorm(const float* x, const float* gamma, const float* beta, float* y,
                      std::int64_t rows, std::int64_t dim, float eps, cudaStream_t stream) {
  if (rows <= 0) return;
  launch(layernorm_kernel, grid_dim(rows, "layernorm rows", true), kThreads, 0, stream, x, gamma,
         beta, y, dim, eps);
  AIGC_CUDA_CHECK_LAUNCH();
}

void launch_rmsnorm(const float* x, const float* gamma, float* y, std::int64_t rows,
                    std::int64_t dim, float eps, cudaStream_t stream) {
  if (rows <= 0) return;
  launch(rmsnorm_kernel, grid_dim(rows, "rmsnorm rows", true), kThreads, 0, stream, x, gamma, y,
         dim, eps);
  AIGC_CUDA_CHECK_LAUNCH();
}

void launch_add(const float* a, const float* b, float* y, std::int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  launch(add_kernel, stride_blocks(n), kThreads, 0, stream, a, b, y, n);
  AIGC_CUDA_CHECK_LAUNCH();
}

void launch_gelu_tanh(const float* a, float* y, std::int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  launch(gelu_tanh_kernel, stride_blocks(n), kThreads, 0, stream, a, y, n);
  AIGC_CUDA_CHECK_LAUNCH();
}

void launch_fill(float* y, std::int64_t n, float value, cudaStream_t stream) {
  if (n <= 0) return;
  launch(fill_kernel, stride_blocks(n), kThreads, 0, stream, y, n, value);
  AIGC_CUDA_CHECK_LAUNCH();
}

}  // namespace aigc::cuda
