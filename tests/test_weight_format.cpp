// Weight formats (core/weight_format) against the `gguf` package's quantizers
// (scripts/make_quant_fixtures.py wrote tests/data/quants from gguf.quants): quantize and
// dequantize bit for bit, then the round trip within each format's derived error bound on
// fresh random data, and the refusals.
#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <cstring>
#include <random>

#include "core/errors.hpp"
#include "core/weight_format.hpp"
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

TEST_CASE("quantize and dequantize match gguf.quants bit for bit in every format") {
  for (const WeightFormat f : kAllWeightFormats) {
    if (f == WeightFormat::f32) continue;
    INFO(weight_format_name(f));
    const Fixture fx = read_fixture(f);
    const auto n = static_cast<std::int64_t>(fx.input.size());
    std::vector<std::uint8_t> stored(fx.stored.size(), 0xAB);
    quantize(f, fx.input.data(), n, stored.data());
    std::size_t first_diff = stored.size();
    for (std::size_t i = 0; i < stored.size(); ++i) {
      if (stored[i] != fx.stored[i]) {
        first_diff = i;
        break;
      }
    }
    INFO("first differing byte " << first_diff << " (block " << first_diff / block_bytes(f)
                                 << ")");
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
  CHECK_THROWS_WITH(parse_weight_format("q5_0", "dtype"),
                    "dtype: unknown weight format 'q5_0' (valid: f32, f16, bf16, q8_0, q4_0, q4_1)");
  CHECK(row_bytes(WeightFormat::f32, 7) == 28);
  CHECK(row_bytes(WeightFormat::bf16, 7) == 14);
  CHECK(row_bytes(WeightFormat::q8_0, 64) == 68);
  CHECK(row_bytes(WeightFormat::q4_0, 64) == 36);
  CHECK(row_bytes(WeightFormat::q4_1, 96) == 60);
  CHECK(bytes_per_weight(WeightFormat::q4_1) == 0.625);
  // K not a whole number of blocks is refused by name (GGUF does not pad a row).
  CHECK_THROWS_AS(row_bytes(WeightFormat::q4_0, 33, "K"), InvalidArgument);
  CHECK_THROWS_WITH(row_bytes(WeightFormat::q8_0, 100, "K"),
                    "K: 100 is not a multiple of 32: q8_0 weights come in blocks of 32 along a row "
                    "(GGUF's layout, unpadded)");
  CHECK(row_fits(WeightFormat::f16, 33));
  CHECK_FALSE(row_fits(WeightFormat::q4_1, 33));
}
