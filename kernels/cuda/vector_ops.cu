// The decoder's non-matmul arithmetic: layernorm, rmsnorm, residual add, GELU, SwiGLU's gate,
// rope, and a fill for
// poisoning buffers. All memory-bound; each reads and writes its data once (layernorm
// re-reads its row from cache).
#include <cmath>

#include <cuda_bf16.h>

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

__global__ void round_to_bf16_kernel(const float* x, std::int64_t n, __nv_bfloat16* y) {
  for (std::int64_t e = std::int64_t{blockIdx.x} * blockDim.x + threadIdx.x; e < n;
       e += std::int64_t{gridDim.x} * blockDim.x) {
    y[e] = __float2bfloat16_rn(x[e]);
  }
}

// GELU(a), times b where given (GeGLU's gate).
__global__ void gelu_tanh_kernel(const float* a, const float* b, float* y, std::int64_t n) {
  constexpr float kSqrt2OverPi = 0.7978845608028654f;
  for (std::int64_t e = std::int64_t{blockIdx.x} * blockDim.x + threadIdx.x; e < n;
       e += std::int64_t{gridDim.x} * blockDim.x) {
    const float v = a[e];
    const float g = 0.5f * v * (1.0f + tanhf(kSqrt2OverPi * (v + 0.044715f * v * v * v)));
    y[e] = b != nullptr ? g * b[e] : g;
  }
}

// SwiGLU's gate: silu(a) * b. expf of a large -a overflows to inf and the quotient to 0, the
// right limit.
__global__ void silu_mul_kernel(const float* a, const float* b, float* y, std::int64_t n) {
  for (std::int64_t e = std::int64_t{blockIdx.x} * blockDim.x + threadIdx.x; e < n;
       e += std::int64_t{gridDim.x} * blockDim.x) {
    const float v = a[e];
    y[e] = v / (1.0f + expf(-v)) * b[e];
  }
}

// One thread per rotated pair. The frequency is recomputed per pair (powf, a few ulp) rather
// than read from a table: the op is memory-bound, and a table would be device state per shape.
__global__ void rope_kernel(float* x, std::int64_t tokens, std::int64_t heads,
                            std::int64_t head_dim, std::int64_t row_floats, std::int64_t pos0,
                            float base) {
  const std::int64_t half = head_dim / 2, pairs = tokens * heads * half;
  for (std::int64_t e = std::int64_t{blockIdx.x} * blockDim.x + threadIdx.x; e < pairs;
       e += std::int64_t{gridDim.x} * blockDim.x) {
    const std::int64_t t = e / (heads * half), h = (e / half) % heads, i = e % half;
    const float inv_freq = powf(base, -2.0f * float(i) / float(head_dim));
    float s, c;
    sincosf(float(pos0 + t) * inv_freq, &s, &c);
    float* p = x + t * row_floats + h * head_dim + 2 * i;
    const float x0 = p[0], x1 = p[1];
    p[0] = x0 * c - x1 * s;
    p[1] = x0 * s + x1 * c;
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

void launch_round_to_bf16(const float* x, std::int64_t n, std::uint16_t* y, cudaStream_t stream) {
  if (n <= 0) return;
  launch(round_to_bf16_kernel, stride_blocks(n), kThreads, 0, stream, x, n,
         reinterpret_cast<__nv_bfloat16*>(y));
  AIGC_CUDA_CHECK_LAUNCH();
}

void launch_gelu_tanh(const float* a, float* y, std::int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  launch(gelu_tanh_kernel, stride_blocks(n), kThreads, 0, stream, a, nullptr, y, n);
  AIGC_CUDA_CHECK_LAUNCH();
}

void launch_gelu_tanh_mul(const float* a, const float* b, float* y, std::int64_t n,
                          cudaStream_t stream) {
  if (n <= 0) return;
  launch(gelu_tanh_kernel, stride_blocks(n), kThreads, 0, stream, a, b, y, n);
  AIGC_CUDA_CHECK_LAUNCH();
}

void launch_silu_mul(const float* a, const float* b, float* y, std::int64_t n,
                     cudaStream_t stream) {
  if (n <= 0) return;
  launch(silu_mul_kernel, stride_blocks(n), kThreads, 0, stream, a, b, y, n);
  AIGC_CUDA_CHECK_LAUNCH();
}

void launch_rope(float* x, std::int64_t tokens, std::int64_t heads, std::int64_t head_dim,
                 std::int64_t row_floats, std::int64_t pos0, float base, cudaStream_t stream) {
  const std::int64_t pairs = tokens * heads * (head_dim / 2);
  if (pairs <= 0) return;
  launch(rope_kernel, stride_blocks(pairs), kThreads, 0, stream, x, tokens, heads, head_dim,
         row_floats, pos0, base);
  AIGC_CUDA_CHECK_LAUNCH();
}

void launch_fill(float* y, std::int64_t n, float value, cudaStream_t stream) {
  if (n <= 0) return;
  launch(fill_kernel, stride_blocks(n), kThreads, 0, stream, y, n, value);
  AIGC_CUDA_CHECK_LAUNCH();
}

}  // namespace aigc::cuda
