#include "kernels/openmp/matmul.hpp"
#include "kernels/openmp/backend.hpp"

#include <omp.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "kernels/simd/gemm.hpp"
#include "kernels/simd/gemv_int8.hpp"

namespace aigc::openmp {

TileGrid choose_tile_grid(const MatmulShape& s, int threads, std::int64_t mr, std::int64_t nr) {
  // Never cut finer than the register block: a sliver of C is all edge.
  const std::int64_t max_pm = std::max<std::int64_t>(1, (s.M + mr - 1) / mr);
  const std::int64_t max_pn = std::max<std::int64_t>(1, (s.N + nr - 1) / nr);
  TileGrid best;
  double best_cost = std::numeric_limits<double>::infinity();
  for (int used = threads; used >= 1 && best_cost == std::numeric_limits<double>::infinity();
       --used) {
    for (int pm = 1; pm <= used; ++pm) {
      if (used % pm != 0) continue;
      const int pn = used / pm;
      if (pm > max_pm || pn > max_pn) continue;
      const double cost = static_cast<double>(s.M) / pm + static_cast<double>(s.N) / pn;
      if (cost < best_cost) {
        best_cost = cost;
        best = {pm, pn};
      }
    }
  }
  return best;
}

namespace {

// Splits [0, extent) into `parts` pieces whose boundaries fall on multiples of `align`.
std::int64_t split_point(std::int64_t extent, int parts, int index, std::int64_t align) {
  const std::int64_t blocks = (extent + align - 1) / align;
  return std::min(extent, blocks * index / parts * align);
}

class OpenmpMatmul final : public MatmulKernel {
 public:
  OpenmpMatmul(const MatmulShape& shape, int threads) : MatmulKernel(shape), threads_(threads) {}

  void compute(const Buffer& a, const Buffer& b, const Buffer* bias, Buffer& c) override {
    const bool stored = shape().b_format != WeightFormat::f32;
    const std::int64_t ldb_bytes = stored ? row_bytes(shape().b_format, shape().K) : 0;
    if (shape().M <= simd::kGemvMaxRows && !shape().transpose_b && threads_ > 1) {
      run_split_k(a.as<const float>(), b.as<const float>(),
                  bias != nullptr ? bias->as<const float>() : nullptr, c.as<float>());
      return;
    }
    // The register block is asked at run time: a forced SIMD target changes it.
    const simd::RegisterBlock rb = simd::gemm_register_block();
    const TileGrid grid = choose_tile_grid(shape(), threads_, rb.mr, rb.nr);
    const float* pa = a.as<const float>();
    std::int64_t lda = shape().K;
    // A block format's activations are rounded once here for every tile (each would round its
    // rows again); a decode step's few rows are quantized by gemv_int8 itself.
    // Where the CPU has int8 dot products each tile quantizes its own rows (gemm_int8).
    const bool round_once = simd::is_int8_activation_format(shape().b_format) &&
                            shape().M > simd::kGemvMaxRows && !simd::int8_dot_dispatched();
    if (round_once) {
      rounded_a_.resize(static_cast<std::size_t>(shape().M * shape().K));
#pragma omp parallel for num_threads(threads_) schedule(static)
      for (std::int64_t i = 0; i < shape().M; ++i) {
        simd::round_rows_to_int8_blocks(pa + i * shape().K, 1, shape().K, shape().K,
                                        rounded_a_.data() + i * shape().K);
      }
      pa = rounded_a_.data();
    }
    const float* pb = b.as<const float>();
    const float* pbias = bias != nullptr ? bias->as<const float>() : nullptr;
    float* pc = c.as<float>();
    const int tiles = grid.pm * grid.pn;
#pragma omp parallel for num_threads(threads_) schedule(static, 1)
    for (int t = 0; t < tiles; ++t) {
      const int ti = t / grid.pn, tj = t % grid.pn;
      const std::int64_t i0 = split_point(shape().M, grid.pm, ti, rb.mr);
      const std::int64_t i1 = split_point(shape().M, grid.pm, ti + 1, rb.mr);
      const std::int64_t j0 = split_point(shape().N, grid.pn, tj, rb.nr);
      const std::int64_t j1 = split_point(shape().N, grid.pn, tj + 1, rb.nr);
      simd::gemm({.m = i1 - i0,
                  .n = j1 - j0,
                  .k = shape().K,
                  .a = pa + i0 * lda,
                  .lda = lda,
                  .b = shape().transpose_b ? pb + j0 * shape().K : pb + j0,
                  .ldb = shape().transpose_b ? shape().K : shape().N,
                  .transpose_b = shape().transpose_b,
                  .bias = pbias != nullptr ? pbias + j0 : nullptr,
                  .c = pc + i0 * shape().N + j0,
                  .ldc = shape().N,
                  .b_format = shape().b_format,
                  .b_stored = b.as<const std::uint8_t>() + j0 * ldb_bytes,
                  .ldb_bytes = ldb_bytes,
                  .a_rounded = round_once});
    }
  }

 private:
  // A matrix-vector product (a decode step) is bound by reading B. Cut by columns, each
  // thread would read a short piece of every row of B, with a jump between pieces; cut by
  // rows of B (the K dimension), each thread streams one contiguous block, the access the
  // prefetchers like best. The partial C's (a few rows of N floats) are summed after.
  void run_split_k(const float* pa, const float* pb, const float* bias, float* pc) {
    const std::int64_t M = shape().M, N = shape().N, K = shape().K;
    const int parts = static_cast<int>(std::min<std::int64_t>(threads_, K));
    partials_.resize(static_cast<std::size_t>(parts * M * N));
#pragma omp parallel num_threads(threads_)
    {
#pragma omp for schedule(static, 1)
      for (int t = 0; t < parts; ++t) {
        const std::int64_t k0 = K * t / parts, k1 = K * (t + 1) / parts;
        simd::gemm({.m = M,
                    .n = N,
                    .k = k1 - k0,
                    .a = pa + k0,
                    .lda = K,
                    .b = pb + k0 * N,
                    .ldb = N,
                    .c = partials_.data() + t * M * N,
                    .ldc = N});
      }
#pragma omp for schedule(static)
      for (std::int64_t j = 0; j < M * N; ++j) {
        float sum = bias != nullptr ? bias[j % N] : 0.0f;
        for (int t = 0; t < parts; ++t) sum += partials_[static_cast<std::size_t>(t * M * N + j)];
        pc[j] = sum;
      }
    }
  }

  int threads_;
  std::vector<float> partials_;
  std::vector<float> rounded_a_;  // a block format's prefill A, rounded once
};

}  // namespace

std::unique_ptr<MatmulKernel> make_matmul_kernel(const MatmulShape& shape, int threads) {
  return std::make_unique<OpenmpMatmul>(shape, threads);
}

AIGC_REGISTER_KERNEL(kernels(), MatmulShape, [](Backend& b, const MatmulShape& s) {
  return make_matmul_kernel(s, b.threads());
});

}  // namespace aigc::openmp
