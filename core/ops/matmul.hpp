#pragma once
// The matmul op: C[M,N] = A[M,K] * B[K,N] (+ bias[N]), fp32, row-major, dense. With
// transpose_b, B is stored [N,K] (row n holds column n), as a tied output embedding is:
// logits = h . wte^T. b_format: how B's weights are stored (core/weight_format). A format other
// than f32 needs transpose_b (a block runs along a row of K weights, GGUF's layout), and a block
// format a K that is a whole number of blocks; A, C and the bias stay fp32, and the kernels
// compute on the stored weights directly (fp32 accumulation of the weights as dequantize()
// gives them).
#include <cstdint>

#include "core/kernels.hpp"
#include "core/weight_format.hpp"

namespace aigc {

struct MatmulShape {
  std::int64_t M = 0, N = 0, K = 0;
  bool bias = false;
  bool transpose_b = false;
  WeightFormat b_format = WeightFormat::f32;
  // Bytes of B as stored.
  std::int64_t b_bytes() const {
    return b_format == WeightFormat::f32 ? 4 * K * N : N * row_bytes(b_format, K);
  }
};

// run(a, b, bias or null, c).
using MatmulKernel = OpKernel<MatmulShape, const Buffer&, const Buffer&, const Buffer*, Buffer&>;

void require_buffers(const MatmulShape& s, const Buffer& a, const Buffer& b, const Buffer* bias,
                     const Buffer& c);
// A stored format's layout: transpose_b, and K a whole number of its blocks.
void require_valid_shape(const MatmulShape& s);
// 2MNK (+ MN for the bias); A, B as stored, the bias and C.
OpWork work_of(const MatmulShape& s);

}  // namespace aigc
