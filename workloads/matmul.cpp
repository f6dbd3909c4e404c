#include "workloads/matmul.hpp"

#include <algorithm>
#include <cstring>
#include <random>

#include <fmt/format.h>

#include "core/float16.hpp"
#include "core/random.hpp"
#include "core/verify.hpp"
#include "workloads/shape_args.hpp"

namespace aigc {
namespace {

// Any single dimension up to 2^20; the product of the three matrices is checked
// against memory separately.
constexpr std::int64_t kMaxDim = 1 << 20;
// A, B and C together may take at most this many bytes (a quarter of a 64 GiB machine).
constexpr double kMaxMatmulBytes = 16.0 * (1ull << 30);

// Verification recomputes in float64; above this many multiply-adds it checks a
// sample of rows (including the first and last) instead of all of them.
constexpr double kFullCheckMacs = 1 << 26;
constexpr int kSampledRows = 24;

}  // namespace

MatmulShape parse_matmul_shape(const std::string& text) {
  const auto v = parse_shape(text, {{"M", 1, kMaxDim},
                                    {"N", 1, kMaxDim},
                                    {"K", 1, kMaxDim},
                                    {"bias", 0, 1, false, 0},
                                    {"tb", 0, 1, false, 0}});
  MatmulShape s{v.at("M"), v.at("N"), v.at("K"), v.at("bias") == 1, v.at("tb") == 1};
  const double bytes = 4.0 * (double(s.M) * s.K + double(s.K) * s.N + double(s.M) * s.N);
  if (bytes > kMaxMatmulBytes) {
    throw InvalidArgument(
        "shapes", fmt::format("'{}' needs {:.1f} GiB for A, B and C (at most {:.0f} GiB)", text,
                              bytes / (1ull << 30), kMaxMatmulBytes / (1ull << 30)));
  }
  return s;
}

std::string format_matmul_shape(const MatmulShape& s) {
  return fmt::format("M={},N={},K={}{}{}", s.M, s.N, s.K, s.bias ? ",bias=1" : "",
                     s.transpose_b ? ",tb=1" : "");
}

double matmul_tolerance(std::int64_t K, double operand_rounding) {
  const double r = operand_rounding;
  return fp32_gamma(double(K + 1)) + 2 * r + r * r;
}

double matmul_max_rel_error(const MatmulShape& s, std::span<const float> a,
                            std::span<const float> b, std::span<const float> bias,
                            std::span<const float> c, std::span<const std::int64_t> rows) {
  std::vector<std::int64_t> all;
  if (rows.empty()) {
    all.resize(s.M);
    for (std::int64_t i = 0; i < s.M; ++i) all[i] = i;
    rows = all;
  }
  MaxRelativeError err;
  std::vector<double> ref(s.N), scale(s.N);
  for (const std::int64_t i : rows) {
    for (std::int64_t j = 0; j < s.N; ++j) {
      ref[j] = s.bias ? bias[j] : 0.0;
      scale[j] = s.bias ? std::abs(double(bias[j])) : 0.0;
    }
    // B[k, j] lies at k * N + j, or at j * K + k when it is stored transposed.
    const std::int64_t k_stride = s.transpose_b ? 1 : s.N, j_stride = s.transpose_b ? s.K : 1;
    for (std::int64_t k = 0; k < s.K; ++k) {
      const double a_ik = a[i * s.K + k];
      const float* b_k = b.data() + k * k_stride;
      for (std::int64_t j = 0; j < s.N; ++j) {
        const double term = a_ik * b_k[j * j_stride];
        ref[j] += term;
        scale[j] += std::abs(term);
      }
    }
    for (std::int64_t j = 0; j < s.N; ++j) err.add(c[i * s.N + j], ref[j], scale[j]);
  }
  return err.value();
}

double int8_matmul_tolerance(std::int64_t K) {
  const double r = int8_activation_rounding();
  return r + fp32_gamma(double(K + 20)) * (1 + r);
}

namespace {

// The min a format adds to element k of a block after scaling it (w = d q + m); 0 for the
// formats without one. The kernels sum d q and m apart, so the bound counts |d q| + |m|.
double added_min(WeightFormat f, const std::uint8_t* block, std::int64_t k) {
  switch (f) {
    case WeightFormat::q4_1:
    case WeightFormat::q5_1:
      return half_at(block + 2);
    case WeightFormat::q4_k:
    case WeightFormat::q5_k: {
      int sc = 0, m = 0;
      k_quant_scale_min(block + 4, int(k / 32), sc, m);
      return -(double(half_at(block + 2)) * m);
    }
    case WeightFormat::q2_k:
      return -(double(half_at(block + 82)) * (block[k / 16] >> 4));
    default:
      return 0.0;
  }
}

}  // namespace

std::vector<double> int8_product_magnitudes(WeightFormat f, std::span<const std::uint8_t> stored,
                                            std::span<const float> w, std::int64_t N,
                                            std::int64_t K) {
  const std::int64_t per_block = block_elements(f), bytes = row_bytes(f, K), block = block_bytes(f);
  std::vector<double> magnitude(w.size());
  for (std::int64_t j = 0; j < N; ++j) {
    for (std::int64_t k = 0; k < K; ++k) {
      const double m =
          added_min(f, stored.data() + j * bytes + k / per_block * block, k % per_block);
      magnitude[j * K + k] = std::abs(w[j * K + k] - m) + std::abs(m);
    }
  }
  return magnitude;
}

double int8_matmul_max_error(const MatmulShape& s, WeightFormat f, std::span<const float> a,
                             std::span<const std::uint8_t> stored, std::span<const float> bias,
                             std::span<const float> c) {
  const std::int64_t K = s.K, blocks = K / 32;
  const std::vector<float> w = dequantize_rows(f, stored, s.N, K);
  const std::vector<double> magnitude = int8_product_magnitudes(f, stored, w, s.N, K);
  MaxRelativeError err;
  std::vector<double> amax(blocks);
  for (std::int64_t i = 0; i < s.M; ++i) {
    const float* ai = a.data() + i * K;
    for (std::int64_t b = 0; b < blocks; ++b) {
      amax[b] = 0;
      for (std::int64_t k = b * 32; k < b * 32 + 32; ++k)
        amax[b] = std::max(amax[b], std::abs(double(ai[k])));
    }
    for (std::int64_t j = 0; j < s.N; ++j) {
      double ref = s.bias ? bias[j] : 0.0, scale = s.bias ? std::abs(double(bias[j])) : 0.0;
      for (std::int64_t k = 0; k < K; ++k) {
        ref += double(ai[k]) * w[j * K + k];
        scale += amax[k / 32] * magnitude[j * K + k];
      }
      err.add(c[i * s.N + j], ref, scale);
    }
  }
  return err.value();
}

namespace {

class MatmulCase final : public WorkloadCase {
 public:
  MatmulCase(Backend& backend, const MatmulShape& s)
      : backend_(backend),
        shape_(s),
        // Seeds differ per operand so that A and B are not the same numbers.
        a_(random_uniform(s.M * s.K, 1)),
        b_(random_uniform(s.K * s.N, 2)),
        bias_(s.bias ? random_uniform(s.N, 3) : std::vector<float>{}),
        da_(backend.upload_new(a_)),
        db_(backend.upload_new(b_)),
        dc_(backend.allocate(sizeof(float) * s.M * s.N)),
        kernel_(backend.make_kernel(s)) {
    if (s.bias) dbias_ = backend.upload_new(bias_);
  }

  void run() override { kernel_->run(da_, db_, shape_.bias ? &dbias_ : nullptr, dc_); }

  double verify() override {
    backend_.upload(dc_, nan_filled(shape_.M * shape_.N));
    run();
    backend_.synchronize();
    std::vector<float> c(shape_.M * shape_.N);
    backend_.download(dc_, c);
    return matmul_max_rel_error(shape_, a_, b_, bias_, c, rows_to_check());
  }

  double tolerance() const override {
    return matmul_tolerance(shape_.K, backend_.operand_rounding());
  }

 private:
  std::vector<std::int64_t> rows_to_check() const {
    if (double(shape_.M) * shape_.N * shape_.K <= kFullCheckMacs || shape_.M <= kSampledRows)
      return {};
    std::vector<std::int64_t> rows{0, shape_.M - 1};
    std::mt19937_64 rng(4);
    std::uniform_int_distribution<std::int64_t> pick(1, shape_.M - 2);
    while (rows.size() < kSampledRows) rows.push_back(pick(rng));
    return rows;
  }

  Backend& backend_;
  MatmulShape shape_;
  std::vector<float> a_, b_, bias_;
  Buffer da_, db_, dbias_, dc_;
  std::unique_ptr<MatmulKernel> kernel_;
};

}  // namespace

std::vector<std::string> MatmulWorkload::preset_shapes(Preset preset) const {
  std::vector<std::string> shapes;
  auto square = [&](std::int64_t n) { shapes.push_back(format_matmul_shape({n, n, n, false})); };
  // GPT-2 124M's projections (d_model 768): QKV 768->2304, attention out 768->768,
  // MLP up 768->3072 and down 3072->768, all with bias, for a batch of `tokens` rows.
  auto transformer = [&](std::int64_t tokens) {
    for (const auto& [k, n] :
         {std::pair<std::int64_t, std::int64_t>{768, 2304}, {768, 768}, {768, 3072}, {3072, 768}}) {
      shapes.push_back(format_matmul_shape({tokens, n, k, true}));
    }
  };
  switch (preset) {
    case Preset::smoke:
      square(64);
      shapes.push_back(format_matmul_shape({17, 33, 65, true}));
      break;
    case Preset::quick:
      for (std::int64_t n : {128, 512, 1024, 2048}) square(n);
      transformer(128);
      break;
    case Preset::full:
      for (std::int64_t n : {128, 256, 512, 1024, 2048, 4096}) square(n);
      for (std::int64_t tokens : {1, 128, 256, 1024}) transformer(tokens);
      break;
    case Preset::gpu:  // the SGEMM target at 4096^3; GPT-2's decode and prefill projections
      for (std::int64_t n : {1024, 4096}) square(n);
      for (std::int64_t tokens : {1, 128}) transformer(tokens);
      break;
  }
  return shapes;
}

Shape MatmulWorkload::parse(const std::string& text) const {
  return shape_of(parse_matmul_shape(text));
}

WorkCounts MatmulWorkload::counts(const Shape& shape) const {
  return matmul_counts(shape.as<MatmulShape>());
}

WorkCounts matmul_counts(const MatmulShape& s) {
  WorkCounts w;
  const OpWork op = work_of(s);
  w.flops = op.flops;
  w.bytes = op.bytes;
  w.n_units = (s.M + kMatmulPanelRows - 1) / kMatmulPanelRows;
  // A, B, bias and C on the host (C downloaded to verify) and on the backend.
  w.host_bytes = w.backend_bytes = w.bytes;
  return w;
}

Shape MatmulWorkload::unit_shape(const Shape& shape) const {
  MatmulShape s = shape.as<MatmulShape>();
  s.M = std::min(s.M, kMatmulPanelRows);
  return shape_of(s);
}

std::unique_ptr<WorkloadCase> MatmulWorkload::make_case(Backend& backend,
                                                        const Shape& shape) const {
  return std::make_unique<MatmulCase>(backend, shape.as<MatmulShape>());
}

Shape MatmulWorkload::shape_of(const MatmulShape& s) { return Shape(format_matmul_shape(s), s); }

}  // namespace aigc
