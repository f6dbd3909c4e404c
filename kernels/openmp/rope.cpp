// RoPE: the simd rows from a cos/sin table built with the kernel, tokens split across the team
// (a decode step's single token stays on one thread).
#include <omp.h>

#include <algorithm>

#include "core/backend.hpp"
#include "kernels/openmp/backend.hpp"
#include "kernels/openmp/team.hpp"
#include "kernels/simd/rope.hpp"

namespace aigc::openmp {
namespace {

std::unique_ptr<RopeKernel> make_rope_kernel(const RopeShape& shape, int threads) {
  const int team = static_cast<int>(std::min<std::int64_t>(
      useful_threads(shape.tokens * shape.row_floats(), threads), shape.tokens));
  return kernel_from_function<RopeKernel>(
      shape, [team, table = simd::rope_table(shape)](const RopeShape& s, Buffer& x) {
        float* px = x.as<float>();
#pragma omp parallel for num_threads(team) schedule(static) if (team > 1)
        for (int t = 0; t < team; ++t) {
          simd::rope_rows(s, table.data(), px, s.tokens * t / team, s.tokens * (t + 1) / team);
        }
      });
}

}  // namespace

AIGC_REGISTER_KERNEL(kernels(), RopeShape, [](Backend& b, const RopeShape& s) {
  return make_rope_kernel(s, b.threads());
});

}  // namespace aigc::openmp
