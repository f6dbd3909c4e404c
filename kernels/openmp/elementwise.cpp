// The elementwise ops: the simd ranges, one range of whole cache lines per thread.
#include <omp.h>

#include <algorithm>

#include "core/backend.hpp"
#include "kernels/openmp/backend.hpp"
#include "kernels/openmp/team.hpp"
#include "kernels/simd/elementwise.hpp"

namespace aigc::openmp {
namespace {

class OpenmpElementwise final : public ElementwiseKernel {
 public:
  OpenmpElementwise(const ElementwiseShape& shape, int threads)
      : ElementwiseKernel(shape), threads_(useful_threads(shape.n, threads)) {}
  void compute(const Buffer& a, const Buffer* b, Buffer& y) override {
    const float* pa = a.as<const float>();
    const float* pb = b != nullptr ? b->as<const float>() : nullptr;
    float* py = y.as<float>();
    // Ranges on 16-float (cache line) boundaries, so no two threads write one line.
    const std::int64_t lines = (shape().n + 15) / 16;
#pragma omp parallel for num_threads(threads_) schedule(static) if (threads_ > 1)
    for (int t = 0; t < threads_; ++t) {
      const std::int64_t i0 = std::min(shape().n, lines * t / threads_ * 16);
      const std::int64_t i1 = std::min(shape().n, lines * (t + 1) / threads_ * 16);
      simd::elementwise_range(shape().op, pa, pb, py, i0, i1);
    }
  }

 private:
  int threads_;
};

}  // namespace

AIGC_REGISTER_KERNEL(kernels(), ElementwiseShape, [](Backend& b, const ElementwiseShape& s) {
  return std::unique_ptr<ElementwiseKernel>(std::make_unique<OpenmpElementwise>(s, b.threads()));
});

}  // namespace aigc::openmp
