// Layernorm: the simd rows, one range of rows per thread.
#include <omp.h>

#include <algorithm>

#include "core/backend.hpp"
#include "kernels/openmp/backend.hpp"
#include "kernels/openmp/team.hpp"
#include "kernels/simd/layernorm.hpp"

namespace aigc::openmp {
namespace {

class OpenmpLayernorm final : public LayernormKernel {
 public:
  OpenmpLayernorm(const LayernormShape& shape, int threads)
      : LayernormKernel(shape),
        threads_(
            std::min<std::int64_t>(useful_threads(shape.rows * shape.dim, threads), shape.rows)) {}
  void compute(const Buffer& x, const Buffer& gamma, const Buffer& beta, Buffer& y) override {
    const float* px = x.as<const float>();
    const float* pg = gamma.as<const float>();
    const float* pb = beta.as<const float>();
    float* py = y.as<float>();
#pragma omp parallel for num_threads(threads_) schedule(static) if (threads_ > 1)
    for (int t = 0; t < threads_; ++t) {
      simd::layernorm_rows(shape(), px, pg, pb, py, shape().rows * t / threads_,
                           shape().rows * (t + 1) / threads_);
    }
  }

 private:
  int threads_;
};

}  // namespace

AIGC_REGISTER_KERNEL(kernels(), LayernormShape, [](Backend& b, const LayernormShape& s) {
  return std::unique_ptr<LayernormKernel>(std::make_unique<OpenmpLayernorm>(s, b.threads()));
});

}  // namespace aigc::openmp
