// Weight formats (core/weight_format) against the `gguf` package's quantizers
// (scripts/make_quant_fixtures.py wrote tests/data/quants from gguf.quants): quantize and
// dequantize bit for bit, then the round trip within each format's derived error bound on
// fresh random data, and the refusals.
#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <cstring>
#include <random>
#include <set>

#include "core/errors.hpp"
#include "core/weight_format.hpp"
#include "kernels/registry.hpp"
#include "kernels/simd/gemm.hpp"
#include "tests/test_data.hpp"

using namespace aigc;

namespace {

struct Fixture {
  std::vector<float> input;
  std::vector<std::uint8_t> stored;
  std::vector<float> dequantized;
};

Fixture read_fixture(WeightFormat f) {
  const std::string path = test_data_dir() + "/quants/" + weight_format_name(f) + ".bin";
  const std::string bytes = slurp(path);
  REQUIRE(bytes.size() > 4);
  std::uint32_t n = 0;
  std::memcpy(&n, bytes.data(), 4);
  const std::size_t stored_bytes = std::size_t(row_bytes(f, n));
  REQUIRE(bytes.size() == 4 + 4 * std::size_t(n) + stored_bytes + 4 * std::size_t(n));
  Fixture fx;
  fx.input.resize(n);
  fx.stored.resize(stored_bytes);
  fx.dequantized.resize(n);
  std::memcpy(fx.input.data(), bytes.data() + 4, 4 * n);
  std::memcpy(fx.stored.data(), bytes.data() + 4 + 4 * n, stored_bytes);
  std::memcpy(fx.dequantized.data(), bytes.data() + 4 + 4 * n + stored_bytes, 4 * n);
  return fx;
}

}  // namespace

// gguf.quants has no K-quant quantizer: their fixtures are seeded random super-blocks (finite
// scales) and what gguf.quants dequantizes them to, and only dequantize is held to it; our own
// quantizer's round trip is held to the format's error bound below.
TEST_CASE("quantize and dequantize match gguf.quants bit for bit in every format") {
  for (const WeightFormat f : kAllWeightFormats) {
    if (f == WeightFormat::f32) continue;
    INFO(weight_format_name(f));
    const Fixture fx = read_fixture(f);
    const auto n = static_cast<std::int64_t>(fx.input.size());
    std::vector<std::uint8_t> stored(fx.stored.size(), 0xAB);
    if (is_k_quant(f)) {
      stored = fx.stored;  // no gguf quantizer to match (above)
    } else {
      quantize(f, fx.input.data(), n, stored.data());
    }
    std::size_t first_diff = stored.size();
    for (std::size_t i = 0; i < stored.size(); ++i) {
      if (stored[i] != fx.stored[i]) {
        first_diff = i;
        break;
      }
    }
    INFO("first differing byte " << first_diff << " (block " << first_diff / block_bytes(f) << ")");
    CHECK(first_diff == stored.size());

    std::vector<float> back(fx.input.size(), std::nanf(""));
    dequantize(f, fx.stored.data(), n, back.data());
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i < back.size(); ++i) {
      if (std::bit_cast<std::uint32_t>(back[i]) != std::bit_cast<std::uint32_t>(fx.dequantized[i]))
        ++mismatches;
    }
    CHECK(mismatches == 0);
  }
}

TEST_CASE("the SIMD dequantize (the prefill's unpacking) is the scalar one bit for bit") {
  for (const std::string& target : simd::available_targets()) {
    simd::force_target(target);
    for (const WeightFormat f : kAllWeightFormats) {
      if (f == WeightFormat::f32) continue;
      INFO(weight_format_name(f) << " on " << target);
      const Fixture fx = read_fixture(f);
      // From the start and from a block in (as the GEMM's K blocks do), odd lengths where the
      // format allows.
      const std::int64_t block = block_elements(f);
      for (const std::int64_t from : {std::int64_t(0), 2 * std::max<std::int64_t>(block, 32)}) {
        const std::int64_t n =
            std::int64_t(fx.input.size()) - from - (is_block_format(f) ? block : 7);
        const std::uint8_t* p = fx.stored.data() + from / block_elements(f) * block_bytes(f);
        std::vector<float> simd_out(static_cast<std::size_t>(n), std::nanf(""));
        std::vector<float> plain(static_cast<std::size_t>(n));
        simd::dequantize_row(f, p, n, simd_out.data());
        dequantize(f, p, n, plain.data());
        CHECK(std::memcmp(simd_out.data(), plain.data(), plain.size() * 4) == 0);
      }
    }
  }
  simd::force_target("");
}

TEST_CASE("a quantize-dequantize round trip stays within each format's error bound") {
  std::mt19937_64 rng(7);
  for (const WeightFormat f : kAllWeightFormats) {
    INFO(weight_format_name(f));
    for (const double scale : {1e-3, 0.02, 1.0, 300.0}) {
      std::normal_distribution<float> normal(0.0f, float(scale));
      constexpr std::int64_t kRows = 8, kK = 256;
      std::vector<float> x(kRows * kK);
      for (float& v : x) v = normal(rng);
      const std::vector<std::uint8_t> stored = quantize_rows(f, x, kRows, kK);
      CHECK(std::int64_t(stored.size()) == kRows * row_bytes(f, kK));
      const std::vector<float> back = dequantize_rows(f, stored, kRows, kK);
      const std::int64_t block = block_elements(f);
      double worst = 0;  // the largest error as a fraction of its bound
      for (std::int64_t b = 0; b < kRows * kK; b += block) {
        const std::span<const float> in(x.data() + b, std::size_t(block));
        const double bound = block_error_bound(f, in);
        for (std::int64_t j = 0; j < block; ++j) {
          const double err = std::fabs(double(back[b + j]) - double(x[b + j]));
          REQUIRE(std::isfinite(back[b + j]));
          if (bound == 0) {
            REQUIRE(err == 0);
          } else {
            worst = std::max(worst, err / bound);
          }
        }
      }
      CHECK(worst <= 1.0);
      // The bound is not vacuous: a block format's errors come near it.
      if (is_block_format(f)) CHECK(worst > 0.3);
    }
  }
}

TEST_CASE("weight formats: names, sizes and refusals") {
  CHECK(parse_weight_format("q4_1", "dtype") == WeightFormat::q4_1);
  CHECK(parse_weight_format("q4_k", "dtype") == WeightFormat::q4_k);
  CHECK_THROWS_WITH(parse_weight_format("iq2_xxs", "dtype"),
                    "dtype: unknown weight format 'iq2_xxs' (valid: f32, f16, bf16, q8_0, q4_0, "
                    "q4_1, q5_0, q5_1, q2_k, q3_k, q4_k, q5_k, q6_k)");
  CHECK(row_bytes(WeightFormat::f32, 7) == 28);
  CHECK(row_bytes(WeightFormat::bf16, 7) == 14);
  CHECK(row_bytes(WeightFormat::q8_0, 64) == 68);
  CHECK(row_bytes(WeightFormat::q4_0, 64) == 36);
  CHECK(row_bytes(WeightFormat::q4_1, 96) == 60);
  CHECK(bytes_per_weight(WeightFormat::q4_1) == 0.625);
  CHECK(row_bytes(WeightFormat::q5_0, 64) == 44);
  CHECK(row_bytes(WeightFormat::q5_1, 64) == 48);
  CHECK(row_bytes(WeightFormat::q4_k, 512) == 288);
  CHECK(row_bytes(WeightFormat::q6_k, 256) == 210);
  CHECK(bytes_per_weight(WeightFormat::q4_k) == 4.5 / 8);
  CHECK(bytes_per_weight(WeightFormat::q2_k) == 2.625 / 8);
  // SmolLM2's width (576) is not a whole number of K-quant super-blocks.
  CHECK_THROWS_WITH(row_bytes(WeightFormat::q4_k, 576, "K"),
                    "K: 576 is not a multiple of 256: q4_k weights come in blocks of 256 along a "
                    "row (GGUF's layout, unpadded)");
  // K not a whole number of blocks is refused by name (GGUF does not pad a row).
  CHECK_THROWS_AS(row_bytes(WeightFormat::q4_0, 33, "K"), InvalidArgument);
  CHECK_THROWS_WITH(row_bytes(WeightFormat::q8_0, 100, "K"),
                    "K: 100 is not a multiple of 32: q8_0 weights come in blocks of 32 along a row "
                    "(GGUF's layout, unpadded)");
  CHECK(row_fits(WeightFormat::f16, 33));
  CHECK_FALSE(row_fits(WeightFormat::q4_1, 33));
}

TEST_CASE("a NaN weight or scale in any stored format reaches the matmul's output") {
  // B [N=5, K=64]: row 2 gets a NaN (a weight of a float format, the scale of its first block
  // otherwise); every output of column 2 must be NaN, the rest finite, on every backend that
  // takes the format, every SIMD target, the matrix-vector (M = 1) and GEMM (M = 9) paths.
  // K = 64, or one super-block of a K-quant (whose f16 scale sits where its layout puts it).
  constexpr std::int64_t N = 5;
  for (const std::string& target : simd::available_targets()) {
    simd::force_target(target);
    for (const WeightFormat f : kAllWeightFormats) {
      const std::int64_t K = is_k_quant(f) ? 256 : 64;
      std::vector<float> b(std::size_t(N * K));
      for (std::size_t i = 0; i < b.size(); ++i) b[i] = std::sin(0.37f * float(i));
      std::vector<std::uint8_t> stored = quantize_rows(f, b, N, K);
      std::uint8_t* row2 = stored.data() + 2 * row_bytes(f, K);
      if (f == WeightFormat::f32) {
        const float nan = std::nanf("");
        std::memcpy(row2 + 4 * 7, &nan, 4);
      } else {
        const std::uint16_t nan16 = f == WeightFormat::bf16 ? 0x7fc0 : 0x7e00;
        const std::int64_t scale_at =
            is_block_format(f) ? weight_format_traits(f).scale_at[0] : 2 * 7;
        std::memcpy(row2 + scale_at, &nan16, 2);
      }
      for (const char* name : {"scalar", "simd", "openmp", "onednn"}) {
        auto backend = make_backend(name);
        if (!backend->descriptor().takes(f)) continue;
        for (const std::int64_t M : {std::int64_t(1), std::int64_t(9)}) {
          INFO(weight_format_name(f) << " on " << name << ", target " << target << ", M " << M);
          const MatmulShape s{M, N, K, false, true, f};
          std::vector<float> a(std::size_t(M * K), 0.5f);
          Buffer ba = backend->upload_new(a), bb = backend->upload_weights(stored);
          Buffer bc = backend->allocate(std::size_t(4 * M * N));
          backend->make_kernel(s)->run(ba, bb, nullptr, bc);
          std::vector<float> c(std::size_t(M * N));
          backend->download(bc, c);
          for (std::int64_t i = 0; i < M; ++i) {
            for (std::int64_t j = 0; j < N; ++j)
              CHECK(std::isnan(c[std::size_t(i * N + j)]) == (j == 2));
          }
        }
      }
    }
  }
  simd::force_target("");
}

TEST_CASE("the format table has one row per format, its names parse back, its layouts hold") {
  REQUIRE(weight_format_table().size() == std::size(kAllWeightFormats));
  std::set<std::string> names;
  for (const WeightFormatTraits& t : weight_format_table()) {
    CHECK(&weight_format_traits(t.format) == &t);
    CHECK(names.insert(t.name).second);
    CHECK(parse_weight_format(t.name, "dtype") == t.format);
    CHECK(bytes_per_weight(t.format) == double(t.block_bytes) / double(t.block_elements));
    CHECK(std::string(t.description).size() > 10);
    // A block's quantize and dequantize through the row agree with the whole-row functions.
    std::vector<float> x(std::size_t(t.block_elements) * 3);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(float(i) * 0.7f) * 3;
    std::vector<std::uint8_t> row(std::size_t(t.block_bytes) * 3), by_row(row.size());
    t.quantize(x.data(), 3, row.data());
    quantize(t.format, x.data(), std::int64_t(x.size()), by_row.data());
    CHECK(row == by_row);
    std::vector<float> back(x.size());
    t.dequantize(row.data(), 3, back.data());
    for (std::size_t i = 0; i < x.size(); ++i)
      CHECK(std::abs(back[i] - x[i]) <=
            t.error_bound(std::span<const float>(x).subspan(i / t.block_elements * t.block_elements,
                                                            t.block_elements)));
  }
  CHECK(weight_format_names() ==
        "f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q2_k, q3_k, q4_k, q5_k, q6_k");
}

TEST_CASE("a K-quant super-block it cannot hold (NaN, infinity, past 1e6) reads back as NaN") {
  for (const WeightFormat f : kAllWeightFormats) {
    if (!is_k_quant(f)) continue;
    for (const float bad : {std::nanf(""), INFINITY, -1e7f}) {
      INFO(weight_format_name(f) << " with " << bad);
      std::vector<float> x(512, 0.25f);
      x[300] = bad;  // the second super-block
      const std::vector<std::uint8_t> stored = quantize_rows(f, x, 1, 512);
      const std::vector<float> back = dequantize_rows(f, stored, 1, 512);
      for (std::size_t i = 0; i < 256; ++i) REQUIRE(std::isfinite(back[i]));
      for (std::size_t i = 256; i < 512; ++i) REQUIRE(std::isnan(back[i]));
    }
  }
}
