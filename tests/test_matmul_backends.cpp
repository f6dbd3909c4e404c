// Every backend's matmul against the float64 reference and the scalar backend, on
// random inputs, odd shapes and the block boundaries of the packed kernels.
#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <tuple>

#include "core/random.hpp"
#include "core/verify.hpp"
#include "kernels/openmp/matmul.hpp"
#include "kernels/registry.hpp"
#include "kernels/simd/gemm.hpp"
#include "kernels/simd/gemv_int8.hpp"
#include "tests/backend_sweep.hpp"
#include "workloads/matmul.hpp"

using namespace aigc;

namespace {

struct Inputs {
  std::vector<float> a, b, bias;
};

Inputs make_inputs(const MatmulShape& s) {
  return {random_uniform(s.M * s.K, 11), random_uniform(s.K * s.N, 12),
          s.bias ? random_uniform(s.N, 13) : std::vector<float>{}};
}

// Runs the backend's kernel through its own buffers, with C poisoned (NaN) first so
// that an element the kernel forgets to write cannot pass.
std::vector<float> run_backend(Backend& backend, const MatmulShape& s, const Inputs& in) {
  Buffer a = backend.upload_new(in.a), b = backend.upload_new(in.b);
  Buffer bias = s.bias ? backend.upload_new(in.bias) : Buffer();
  Buffer c = backend.upload_new(nan_filled(s.M * s.N));
  backend.make_kernel(s)->run(a, b, s.bias ? &bias : nullptr, c);
  backend.synchronize();
  std::vector<float> out(s.M * s.N);
  backend.download(c, out);
  return out;
}

// Elementwise |x - y| relative to sum_k |a_ik b_kj| + |bias_j|: both results are within
// gamma_{K+1} of the exact value, so they are within twice that of each other.
double max_rel_difference(const MatmulShape& s, const Inputs& in, const std::vector<float>& x,
                          const std::vector<float>& y) {
  MaxRelativeError err;
  for (std::int64_t i = 0; i < s.M; ++i) {
    for (std::int64_t j = 0; j < s.N; ++j) {
      double scale = s.bias ? std::abs(in.bias[j]) : 0.0;
      for (std::int64_t k = 0; k < s.K; ++k) {
        const float b_kj = s.transpose_b ? in.b[j * s.K + k] : in.b[k * s.N + j];
        scale += std::abs(double(in.a[i * s.K + k]) * b_kj);
      }
      err.add(x[i * s.N + j], y[i * s.N + j], scale);
    }
  }
  return err.value();
}

// Odd sizes, sizes that are not multiples of the register block (12x32 / 6x16), and
// sizes that cross the cache blocks (KC = 768, MC = 288, NC = 2048) so that the
// accumulate-across-K-blocks and edge-tile paths run.
const std::vector<MatmulShape> kShapes = {
    {1, 1, 1, false},
    {1, 1, 1, true},
    {17, 33, 65, false},
    {17, 33, 65, true},
    {64, 64, 64, false},
    {1000, 3, 17, false},
    {3, 1000, 17, true},
    {5, 7, 4099, false},
    {300, 40, 1600, true},
    {13, 2100, 800, false},
    {1, 2304, 768, true},
    {129, 97, 769, true},
    // The matrix-vector path (M <= kGemvMaxRows) at its edges: N past one 2048-column chunk,
    // K not a multiple of its 4-row unroll.
    {2, 2100, 7, true},
    {4, 4099, 33, false},
    {5, 40, 9, true},
    // B stored transposed (the tied logits): both the matrix-vector path and the packed one.
    {1, 97, 64, false, true},
    {3, 1001, 769, true, true},
    {4, 5, 3, false, true},
    {129, 97, 769, true, true},
    {13, 2100, 800, false, true},
    // A batched decode step's few rows (5..64) against B^T, unpacked: row and column blocks
    // with edges, K shorter than a vector, K over several K blocks (768) with a tail.
    {64, 99, 37, true, true},
    {7, 3, 1, false, true},
    {16, 50, 1700, true, true},
    {5, 13, 800, false, true},
    {65, 10, 20, true, true},
    // The GPU kernels' 128x128 block tiles: several full tiles plus edges, aligned (float4
    // loads) and not, both layouts of B.
    {260, 516, 72, true},
    {260, 516, 72, false, true},
    {131, 257, 35, true},
    {4, 33, 1030, true},
    {1, 50, 3072, false, true},
    {2, 70, 513, false},
};

std::string label(const MatmulShape& s) { return format_matmul_shape(s); }

}  // namespace

TEST_CASE("the scalar reference matches a float64 computation within gamma_(K+1)") {
  auto scalar = make_backend("scalar");
  for (const MatmulShape& s : kShapes) {
    INFO(label(s));
    const Inputs in = make_inputs(s);
    const auto c = run_backend(*scalar, s, in);
    CHECK(matmul_max_rel_error(s, in.a, in.b, in.bias, c) <= matmul_tolerance(s.K));
  }
}

TEST_CASE("every backend matches float64 and the scalar reference at every thread count") {
  auto scalar = make_backend("scalar");
  for_each_backend_and_thread_count([&](Backend& backend, const std::string& name, int threads) {
    for (const MatmulShape& s : kShapes) {
      INFO(name << " threads=" << threads << " " << label(s));
      const Inputs in = make_inputs(s);
      const auto c = run_backend(backend, s, in);
      const double tolerance = matmul_tolerance(s.K, backend.operand_rounding());
      CHECK(matmul_max_rel_error(s, in.a, in.b, in.bias, c) <= tolerance);
      const auto reference = run_backend(*scalar, s, in);
      CHECK(max_rel_difference(s, in, c, reference) <= 2 * tolerance);
    }
  });
}

TEST_CASE("the simd and openmp kernels are correct on every SIMD target this CPU supports") {
  for (const std::string& target : simd::available_targets()) {
    simd::force_target(target);
    REQUIRE(simd::dispatched_target() == target);
    for (const char* name : {"simd", "openmp"}) {
      auto backend = make_backend(name);
      if (backend->is_multithreaded()) backend->set_threads(2);
      for (const MatmulShape& s : kShapes) {
        INFO(name << " target=" << target << " " << label(s));
        const Inputs in = make_inputs(s);
        CHECK(matmul_max_rel_error(s, in.a, in.b, in.bias, run_backend(*backend, s, in)) <=
              matmul_tolerance(s.K));
      }
    }
  }
  simd::force_target("");
}

TEST_CASE("an unknown SIMD target is refused with the valid names") {
  CHECK_THROWS_WITH(simd::force_target("AVX9000"), Catch::Contains("simd-target") &&
                                                       Catch::Contains("AVX9000") &&
                                                       Catch::Contains("valid here"));
  simd::force_target("");
}

TEST_CASE("the error check catches a wrong element, an unwritten element and NaN") {
  const MatmulShape s{9, 7, 33, true};
  const Inputs in = make_inputs(s);
  auto scalar = make_backend("scalar");
  auto c = run_backend(*scalar, s, in);
  REQUIRE(matmul_max_rel_error(s, in.a, in.b, in.bias, c) <= matmul_tolerance(s.K));

  auto wrong = c;
  wrong[5 * s.N + 3] *= 1.001f;  // far above fp32 rounding, far below a gross error
  CHECK(matmul_max_rel_error(s, in.a, in.b, in.bias, wrong) > matmul_tolerance(s.K));

  auto unwritten = c;
  unwritten[s.M * s.N - 1] = std::numeric_limits<float>::quiet_NaN();
  CHECK_FALSE(matmul_max_rel_error(s, in.a, in.b, in.bias, unwritten) <= matmul_tolerance(s.K));

  auto infinite = c;
  infinite[0] = std::numeric_limits<float>::infinity();
  CHECK_FALSE(matmul_max_rel_error(s, in.a, in.b, in.bias, infinite) <= matmul_tolerance(s.K));
}

TEST_CASE("the workload case verifies its own output before it is timed") {
  const MatmulWorkload matmul;
  for_each_backend([&](Backend& backend, const std::string& name) {
    INFO(name);
    auto work = matmul.make_case(backend, matmul.parse("M=40,N=24,K=100,bias=1"));
    const double err = work->verify();
    CHECK(err <= work->tolerance());
    CHECK(err >= 0);
  });
}

TEST_CASE(
    "the openmp tile grid gives every thread a tile and never cuts below the register block") {
  using openmp::choose_tile_grid;
  const auto g1 = choose_tile_grid({2048, 2048, 2048, false}, 2, 12, 32);
  CHECK(g1.pm * g1.pn == 2);
  const auto g2 = choose_tile_grid({4096, 64, 64, false}, 4, 12, 32);  // tall: split rows
  CHECK(g2.pm == 4);
  CHECK(g2.pn == 1);
  const auto g3 = choose_tile_grid({1, 4096, 64, false}, 4, 12, 32);  // one row: split columns
  CHECK(g3.pm == 1);
  CHECK(g3.pn == 4);
  const auto g4 = choose_tile_grid({1, 1, 1, false}, 8, 12, 32);  // too small to share
  CHECK(g4.pm * g4.pn == 1);
  const auto g5 = choose_tile_grid({12, 64, 8, false}, 3, 12, 32);  // 1 x 2 is all that fits
  CHECK(g5.pm == 1);
  CHECK(g5.pn == 2);
}

TEST_CASE("analytic FLOPs, bytes and serial-model units of a matmul") {
  const MatmulWorkload matmul;
  const WorkCounts w = matmul.counts(matmul.parse("M=100,N=30,K=20,bias=1"));
  CHECK(w.flops == 2.0 * 100 * 30 * 20 + 100 * 30);
  CHECK(w.bytes == 4.0 * (100 * 20 + 20 * 30 + 100 * 30 + 30));
  CHECK(w.n_units == 7);  // ceil(100 / 16)
  CHECK(matmul.unit_shape(matmul.parse("M=100,N=30,K=20,bias=1")).text() ==
        "M=16,N=30,K=20,bias=1");
  CHECK(matmul.unit_shape(matmul.parse("M=5,N=30,K=20")).text() == "M=5,N=30,K=20");
}

TEST_CASE(
    "the block formats' int8 products equal float64 on the activations they round, to fp32 "
    "rounding") {
  // gemm() rounds A per block of 32 to int8 for these formats on every path (gemv_int8 for a
  // decode's rows, gemm_int8 for a prefill's, or rounded before fp32 products): computed
  // exactly on those rounded values and the dequantized weights, the only error left is the
  // fp32 scaling and summation, gamma(K + 20) of sum |a'| (|d q| + |m|). This is far tighter
  // than the op cases' bound (which includes the rounding of A itself), so a kernel that
  // rounds A otherwise, or scales one block wrongly, fails here.
  for (const WeightFormat f : simd::int8_activation_formats()) {
    for (const auto& [M, N, K] : {std::tuple<std::int64_t, std::int64_t, std::int64_t>{1, 37, 512},
                                  {3, 37, 512},
                                  {16, 37, 512},
                                  {17, 37, 512},
                                  {16, 192, 64},
                                  {16, 64, 256},
                                  {5, 97, 64},
                                  // 10 pairs and an odd block; Qwen2's width, 14 pairs
                                  {1, 37, 672},
                                  {2, 29, 896}}) {
      if (!row_fits(f, K)) continue;
      INFO(weight_format_name(f) << " M=" << M << " N=" << N << " K=" << K);
      const std::vector<float> a = random_uniform(M * K, 21), bias = random_uniform(N, 23);
      const std::vector<std::uint8_t> stored = quantize_rows(f, random_uniform(N * K, 22), N, K);
      const std::vector<float> w = dequantize_rows(f, stored, N, K);
      const std::vector<double> magnitude = int8_product_magnitudes(f, stored, w, N, K);
      std::vector<float> c = nan_filled(M * N);
      simd::gemm({.m = M,
                  .n = N,
                  .k = K,
                  .a = a.data(),
                  .lda = K,
                  .transpose_b = true,
                  .bias = bias.data(),
                  .c = c.data(),
                  .ldc = N,
                  .b_format = f,
                  .b_stored = stored.data(),
                  .ldb_bytes = row_bytes(f, K)});
      std::vector<float> rounded(K);
      double worst = 0;
      for (std::int64_t i = 0; i < M; ++i) {
        round_to_int8_blocks(a.data() + i * K, K, rounded.data());
        for (std::int64_t j = 0; j < N; ++j) {
          double ref = bias[j], scale = std::abs(bias[j]);
          for (std::int64_t k = 0; k < K; ++k) {
            ref += double(rounded[k]) * w[j * K + k];
            scale += std::abs(double(rounded[k])) * magnitude[j * K + k];
          }
          worst = std::max(worst, std::abs(c[i * N + j] - ref) / scale);
        }
      }
      CHECK(worst <= fp32_gamma(double(K + 20)));
    }
  }
}
