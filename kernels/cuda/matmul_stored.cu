// The `cuda` matmul on weights kept in a reduced or compressed format (core/weight_format:
// f16, bf16, GGUF's q8_0, q4_0, q4_1, q5_0, q5_1 and the K-quants), B stored [N, K] row by row
// as the file holds it, A and C in fp32. Weights are widened exactly (w = d q, d (q - 8),
// d q + m, d sc q - dmin m, ... as core's dequantize() computes them, unfused), so the result is
// an fp32 matmul on the dequantized weights and the fp32 tolerance holds. The work is cut in
// units of 32 weights: a legacy block, or a 32-weight stretch of a K-quant super-block.
//   M <= kSmallM (decode, bound by reading B): a warp per column n streams its row of B once,
//     widening in registers. Block formats: lane l takes blocks l, l + 32, ... (a block's 18 to
//     34 bytes are contiguous, and the warp's 32 blocks one stretch that L1 serves); f16/bf16:
//     lane l takes weights l, l + 32, ... (coalesced 64 bytes a step). A shuffle sum at the end.
//   M > kSmallM (prefill, bound by arithmetic): B widened once into an fp32 [N, K] workspace,
//     then the variant's own GEMM (transpose_b): prefill keeps that kernel's speed, at
//     N * K * 4 bytes of device memory for the workspace.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "kernels/cuda/check.hpp"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/matmul_variants.hpp"
#include "kernels/cuda/reduce.cuh"

namespace aigc::cuda {
namespace {

constexpr int kThreads = 256, kWarps = kThreads / 32;

__device__ __forceinline__ unsigned short u16_at(const std::uint8_t* p) {
  // Every 16-bit field of these layouts sits at an even offset of a row that starts at an even
  // byte (rows are whole blocks of an even number of bytes: 2 to 210), so the load is aligned.
  return *reinterpret_cast<const unsigned short*>(p);
}
__device__ __forceinline__ float half_at(const std::uint8_t* p) {
  return __half2float(__ushort_as_half(u16_at(p)));
}
__device__ __forceinline__ float bf16_at(const std::uint8_t* p) {
  return __bfloat162float(__ushort_as_bfloat16(u16_at(p)));
}

// Weight j (0..31) of the legacy block at p, widened as core's dequantize() does (products not
// fused): d and m are the block's scale and min.
template <WeightFormat F>
__device__ __forceinline__ float block_weight(const std::uint8_t* p, float d, float m, int j) {
  constexpr int q0 = static_cast<int>(block_quants_offset(F));
  if constexpr (F == WeightFormat::q8_0) {
    return __fmul_rn(static_cast<float>(static_cast<std::int8_t>(p[q0 + j])), d);
  } else {
    const std::uint8_t byte = p[q0 + (j & 15)];
    int q = j < 16 ? (byte & 0x0f) : (byte >> 4);
    if constexpr (F == WeightFormat::q5_0 || F == WeightFormat::q5_1) {
      const unsigned fifth = unsigned(u16_at(p + q0 - 4)) | unsigned(u16_at(p + q0 - 2)) << 16;
      q |= int((fifth >> j) & 1u) << 4;
    }
    if constexpr (F == WeightFormat::q4_0) return __fmul_rn(d, static_cast<float>(q - 8));
    if constexpr (F == WeightFormat::q5_0) return __fmul_rn(d, static_cast<float>(q - 16));
    return __fmul_rn(d, static_cast<float>(q)) + m;
  }
}

// Weight j (0..31) of unit u (weights 32 u .. 32 u + 31) of the K-quant super-block at p, as
// core's dequantize() computes it: element e = 32 u + j = 128 g + 32 s + j.
template <WeightFormat F>
__device__ __forceinline__ float kquant_weight(const std::uint8_t* p, int u, int j) {
  const int e = 32 * u + j, g = u / 4, s = u % 4;
  if constexpr (F == WeightFormat::q2_k) {
    const int sc = p[e / 16];
    const float dl = __fmul_rn(half_at(p + 80), float(sc & 0x0f));
    const float ml = __fmul_rn(half_at(p + 82), float(sc >> 4));
    return __fmul_rn(dl, float((p[16 + g * 32 + j] >> (2 * s)) & 3)) - ml;
  } else if constexpr (F == WeightFormat::q3_k) {
    const float dl = __fmul_rn(half_at(p + 108), float(q3_k_scale(p + 96, e / 16)));
    const int low = (p[32 + g * 32 + j] >> (2 * s)) & 3, high = (p[j] >> u) & 1;
    return __fmul_rn(dl, float(low - 4 + 4 * high));
  } else if constexpr (F == WeightFormat::q4_k || F == WeightFormat::q5_k) {
    int sc = 0, m = 0;
    k_quant_scale_min(p + 4, u, sc, m);
    const float dl = __fmul_rn(half_at(p), float(sc)), ml = __fmul_rn(half_at(p + 2), float(m));
    constexpr int kQs = F == WeightFormat::q5_k ? 48 : 16;
    int q = (p[kQs + u / 2 * 32 + j] >> (4 * (u % 2))) & 0x0f;
    if constexpr (F == WeightFormat::q5_k) q |= ((p[16 + j] >> u) & 1) << 4;
    return __fmul_rn(dl, float(q)) - ml;
  } else {  // q6_k
    const float dl = __fmul_rn(half_at(p + 208), float(static_cast<std::int8_t>(p[192 + e / 16])));
    const int low = (p[g * 64 + 32 * (s % 2) + j] >> (4 * (s / 2))) & 0x0f;
    const int high = (p[128 + g * 32 + j] >> (2 * s)) & 3;
    return __fmul_rn(dl, float((low | high << 4) - 32));
  }
}

// Weight j of unit t (32 weights) of a row of a block format, in its format's way.
template <WeightFormat F>
__device__ __forceinline__ void unit_weights(const std::uint8_t* row, std::int64_t t, float* w) {
  if constexpr (is_k_quant(F)) {
    const std::uint8_t* p = row + t / 8 * block_bytes(F);
    const int u = static_cast<int>(t % 8);
#pragma unroll
    for (int j = 0; j < 32; ++j) w[j] = kquant_weight<F>(p, u, j);
  } else {
    const std::uint8_t* p = row + t * block_bytes(F);
    const float d = half_at(p), m = has_block_min(F) ? half_at(p + 2) : 0.0f;
#pragma unroll
    for (int j = 0; j < 32; ++j) w[j] = block_weight<F>(p, d, m, j);
  }
}

template <WeightFormat F>
__global__ void __launch_bounds__(kThreads)
    stored_matvec_kernel(GemmArgs g, const std::uint8_t* b, std::int64_t row_bytes) {
  const std::int64_t n = std::int64_t{blockIdx.x} * kWarps + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (n >= g.N) return;  // the whole warp: its shuffles below stay full
  const std::uint8_t* row = b + n * row_bytes;
  float acc[kSmallM] = {};
  if constexpr (is_block_format(F)) {
    const std::int64_t blocks = g.K / 32;  // units of 32 weights
    for (std::int64_t blk = lane; blk < blocks; blk += 32) {
      float w[32];
      unit_weights<F>(row, blk, w);
#pragma unroll
      for (int r = 0; r < kSmallM; ++r) {
        if (r < g.M) {
          const float* a = g.a + r * g.K + blk * 32;
#pragma unroll
          for (int j = 0; j < 32; ++j) acc[r] = fmaf(a[j], w[j], acc[r]);
        }
      }
    }
  } else {
    for (std::int64_t k = lane; k < g.K; k += 32) {
      const float w = F == WeightFormat::f16 ? half_at(row + 2 * k) : bf16_at(row + 2 * k);
#pragma unroll
      for (int r = 0; r < kSmallM; ++r) {
        if (r < g.M) acc[r] = fmaf(g.a[r * g.K + k], w, acc[r]);
      }
    }
  }
#pragma unroll
  for (int r = 0; r < kSmallM; ++r) acc[r] = warp_sum(acc[r]);
  if (lane == 0) {
    for (int r = 0; r < g.M; ++r)
      g.c[r * g.N + n] = acc[r] + (g.bias != nullptr ? g.bias[n] : 0.0f);
  }
}

// out [N, K] = B widened; one thread per block (block formats) or weight (f16/bf16),
// grid-stride.
template <WeightFormat F>
__global__ void __launch_bounds__(kThreads)
    widen_kernel(const std::uint8_t* b, std::int64_t N, std::int64_t K, std::int64_t row_bytes,
                 float* out) {
  constexpr std::int64_t kElements = is_block_format(F) ? 32 : 1, kBytes = block_bytes(F);
  const std::int64_t per_row = K / kElements, units = N * per_row;
  for (std::int64_t u = std::int64_t{blockIdx.x} * kThreads + threadIdx.x; u < units;
       u += std::int64_t{gridDim.x} * kThreads) {
    const std::int64_t n = u / per_row, i = u % per_row;
    float* o = out + n * K + i * kElements;
    if constexpr (is_block_format(F)) {
      unit_weights<F>(b + n * row_bytes, i, o);
    } else {
      const std::uint8_t* p = b + n * row_bytes + i * kBytes;
      o[0] = F == WeightFormat::f16 ? half_at(p) : bf16_at(p);
    }
  }
}

template <WeightFormat F>
void launch_for(MatmulVariant variant, const GemmArgs& g, const StoredB& b, float* workspace,
                cudaStream_t stream) {
  if (g.M <= kSmallM) {
    launch(stored_matvec_kernel<F>, grid_dim(ceil_div(g.N, kWarps), "matmul N", true), kThreads, 0,
           stream, g, b.bytes, b.row_bytes);
    return;
  }
  const std::int64_t units = g.N * (g.K / (is_block_format(F) ? 32 : 1));
  if (units > 0) {  // K = 0: nothing to widen; the GEMM writes the bias
    const std::int64_t blocks = min64(ceil_div(units, kThreads), 64 * multiprocessor_count());
    launch(widen_kernel<F>, grid_dim(blocks, "widen B", true), kThreads, 0, stream, b.bytes, g.N,
           g.K, b.row_bytes, workspace);
  }
  GemmArgs widened = g;
  widened.b = workspace;
  widened.transpose_b = true;
  launch_matmul(variant, widened, nullptr, stream);
}

}  // namespace

std::int64_t stored_matmul_workspace_floats(const GemmArgs& g) {
  return g.M <= kSmallM ? 0 : g.N * g.K;
}

void launch_matmul_stored(MatmulVariant variant, const GemmArgs& g, const StoredB& b,
                          float* workspace, cudaStream_t stream) {
  if (g.M <= 0 || g.N <= 0) return;
  if (g.K % block_elements(b.format) != 0) {
    throw std::invalid_argument("stored matmul: K = " + std::to_string(g.K) +
                                " is not a whole number of the format's blocks");
  }
  switch (b.format) {
    case WeightFormat::f16:
      return launch_for<WeightFormat::f16>(variant, g, b, workspace, stream);
    case WeightFormat::bf16:
      return launch_for<WeightFormat::bf16>(variant, g, b, workspace, stream);
    case WeightFormat::q8_0:
      return launch_for<WeightFormat::q8_0>(variant, g, b, workspace, stream);
    case WeightFormat::q4_0:
      return launch_for<WeightFormat::q4_0>(variant, g, b, workspace, stream);
    case WeightFormat::q4_1:
      return launch_for<WeightFormat::q4_1>(variant, g, b, workspace, stream);
    case WeightFormat::q5_0:
      return launch_for<WeightFormat::q5_0>(variant, g, b, workspace, stream);
    case WeightFormat::q5_1:
      return launch_for<WeightFormat::q5_1>(variant, g, b, workspace, stream);
    case WeightFormat::q2_k:
      return launch_for<WeightFormat::q2_k>(variant, g, b, workspace, stream);
    case WeightFormat::q3_k:
      return launch_for<WeightFormat::q3_k>(variant, g, b, workspace, stream);
    case WeightFormat::q4_k:
      return launch_for<WeightFormat::q4_k>(variant, g, b, workspace, stream);
    case WeightFormat::q5_k:
      return launch_for<WeightFormat::q5_k>(variant, g, b, workspace, stream);
    case WeightFormat::q6_k:
      return launch_for<WeightFormat::q6_k>(variant, g, b, workspace, stream);
    case WeightFormat::f32:
      break;
  }
  throw std::invalid_argument("stored matmul: f32 weights take launch_matmul");
}

}  // namespace aigc::cuda
