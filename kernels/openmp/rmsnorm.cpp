// Rmsnorm: the simd rows, one range of rows per thread.
#include <omp.h>

#include <algorithm>

#include "core/backend.hpp"
#include "kernels/openmp/backend.hpp"
#include "kernels/openmp/team.hpp"
#include "kernels/simd/rmsnorm.hpp"

namespace aigc::openmp {
namespace {

std::unique_ptr<RmsnormKernel> make_rmsnorm_kernel(const RmsnormShape& shape, int threads) {
  const int team = static_cast<int>(
      std::min<std::int64_t>(useful_threads(shape.rows * shape.dim, threads), shape.rows));
  return kernel_from_function<RmsnormKernel>(
      shape, [team](const RmsnormShape& s, const Buffer& x, const Buffer& gamma, Buffer& y) {
        const float* px = x.as<const float>();
        const float* pg = gamma.as<const float>();
        float* py = y.as<float>();
#pragma omp parallel for num_threads(team) schedule(static) if (team > 1)
        for (int t = 0; t < team; ++t) {
          simd::rmsnorm_rows(s, px, pg, py, s.rows * t / team, s.rows * (t + 1) / team);
        }
      });
}

}  // namespace

AIGC_REGISTER_KERNEL(kernels(), RmsnormShape, [](Backend& b, const RmsnormShape& s) {
  return make_rmsnorm_kernel(s, b.threads());
});

}  // namespace aigc::openmp
