#include "kernels/openmp/vector_ops.hpp"

#include <omp.h>

#include <algorithm>

#include "kernels/simd/elementwise.hpp"
#include "kernels/simd/layernorm.hpp"
#include "kernels/simd/rmsnorm.hpp"
#include "kernels/simd/rope.hpp"

namespace aigc::openmp {
namespace {

// Below this many floats per thread a parallel region costs more than it saves
// (a fork/join is a few microseconds; 16 Ki floats take about as long to stream).
constexpr std::int64_t kMinFloatsPerThread = 16 * 1024;

int useful_threads(std::int64_t floats, int threads) {
  return static_cast<int>(std::clamp<std::int64_t>(floats / kMinFloatsPerThread, 1, threads));
}

class OpenmpLayernorm final : public LayernormKernel {
 public:
  OpenmpLayernorm(const LayernormShape& shape, int threads)
      : LayernormKernel(shape),
        threads_(std::min<std::int64_t>(useful_threads(shape.rows * shape.dim, threads),
                                        shape.rows)) {}
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

// Tokens split across the team; a decode step's single token stays on one thread.
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

std::unique_ptr<LayernormKernel> make_layernorm_kernel(const LayernormShape& shape, int threads) {
  return std::make_unique<OpenmpLayernorm>(shape, threads);
}

std::unique_ptr<ElementwiseKernel> make_elementwise_kernel(const ElementwiseShape& shape,
                                                           int threads) {
  return std::make_unique<OpenmpElementwise>(shape, threads);
}

}  // namespace aigc::openmp
