#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "core/backend.hpp"

namespace aigc::simd {

// cos and sin of every (token, pair) angle of a shape, interleaved [tokens, head_dim / 2, 2],
// computed once when the kernel is built (the shape fixes the positions), in double.
std::vector<float> rope_table(const RopeShape& shape);
// Rotates tokens t0 .. t1 - 1 with the table (what an openmp thread takes).
void rope_rows(const RopeShape& shape, const float* table, float* x, std::int64_t t0,
               std::int64_t t1);

std::unique_ptr<RopeKernel> make_rope_kernel(const RopeShape& shape);

}  // namespace aigc::simd
