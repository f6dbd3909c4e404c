#pragma once
// The rope op: rotary position embedding, in place on x [tokens, row_heads, head_dim]: in each
// of the first `heads` heads of token t's row, the pair (x[2i], x[2i+1]) turns by the angle
// (pos0 + t) * base^(-2i / head_dim), i < head_dim / 2. Adjacent pairs are GGUF's llama layout:
// llama.cpp's converter permutes the rows of Q's and K's projections so that its "normal" rope
// rotates adjacent pairs; Hugging Face's rotate_half pairs i with i + head_dim / 2 on the
// unpermuted weights, the same rotation. row_heads > heads leaves the rest of each row alone,
// so Q and K rotate inside a fused QKV projection's output and V does not.
#include <cstdint>

#include "core/kernels.hpp"

namespace aigc {

struct RopeShape {
  std::int64_t tokens = 1, heads = 1, head_dim = 2;
  std::int64_t row_heads = 0;  // 0: equal to heads
  std::int64_t pos0 = 0;
  float base = 10000.0f;
  std::int64_t row_floats() const { return (row_heads > 0 ? row_heads : heads) * head_dim; }
};

// run(x), in place.
using RopeKernel = OpKernel<RopeShape, Buffer&>;

void require_buffers(const RopeShape& s, Buffer& x);
// An even head_dim, pos0 >= 0, 1 <= heads <= row_heads, base > 1.
void require_valid_shape(const RopeShape& s);
// 4 multiplies and 2 adds per pair; each turned pair read and written.
OpWork work_of(const RopeShape& s);

}  // namespace aigc
