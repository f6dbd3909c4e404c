#include "workloads/attention.hpp"

#include <algorithm>
#include <cmath>
#include <random>

#include <fmt/format.h>

#include "core/random.hpp"
#include "core/verify.hpp"
#include "workloads/shape_args.hpp"

namespace aigc {
namespace {

constexpr std::int64_t kMaxS = 65536;
constexpr std::int64_t kMaxL = 1 << 20;
// Q, K, V and O together may take at most this many bytes.
constexpr double kMaxAttentionBytes = 16.0 * (1ull << 30);
// Verification recomputes in float64; above this much work it checks a sample of rows.
constexpr double kFullCheckMacs = 1 << 26;
constexpr int kSampledRows = 48;

}  // namespace

AttentionShape parse_attention_shape(const std::string& text) {
  const auto v = parse_shape(text, {{"B", 1, 4096},
                                    {"H", 1, 1024},
                                    {"S", 1, kMaxS, false, 0},
                                    {"L", 1, kMaxL, false, 0},
                                    {"D", 1, 1024},
                                    {"W", 1, kMaxL, false, 0}});
  const bool has_s = v.at("S") > 0, has_l = v.at("L") > 0;
  if (has_s == has_l) {
    throw InvalidArgument(
        "shapes", fmt::format("'{}': give S (full causal attention over S tokens) or L "
                              "(one decode query against L cached keys), not both or neither",
                              text));
  }
  AttentionShape s{v.at("B"), v.at("H"), has_s ? v.at("S") : 1, has_s ? v.at("S") : v.at("L"),
                   v.at("D")};
  s.window = v.at("W");  // a sliding window of W keys (0: none)
  const double bytes = 4.0 * s.B * s.H * s.D * (2.0 * s.S + 2.0 * s.L);
  if (bytes > kMaxAttentionBytes) {
    throw InvalidArgument(
        "shapes", fmt::format("'{}' needs {:.1f} GiB for Q, K, V and O (at most {:.0f} GiB)", text,
                              bytes / (1ull << 30), kMaxAttentionBytes / (1ull << 30)));
  }
  return s;
}

std::string format_attention_shape(const AttentionShape& s) {
  const std::string window = s.window > 0 ? fmt::format(",W={}", s.window) : "";
  if (s.S == 1 && s.L > 1) return fmt::format("B={},H={},L={},D={}{}", s.B, s.H, s.L, s.D, window);
  return fmt::format("B={},H={},S={},D={}{}", s.B, s.H, s.S, s.D, window);
}

AttentionError attention_error(const AttentionShape& s, std::span<const float> q,
                               std::span<const float> k, std::span<const float> v,
                               std::span<const float> o, std::span<const AttentionRow> rows) {
  std::vector<AttentionRow> all;
  if (rows.empty()) {
    for (std::int64_t bh = 0; bh < s.B * s.H; ++bh) {
      for (std::int64_t i = 0; i < s.S; ++i) all.push_back({bh, i});
    }
    rows = all;
  }
  const std::int64_t D = s.D, cap = s.capacity();
  const double scale = 1.0 / std::sqrt(double(D));
  MaxRelativeError err;
  double max_sigma = 0;
  std::vector<double> score(s.L);
  for (const AttentionRow& row : rows) {
    const float* qi = q.data() + (row.bh * s.S + row.i) * D;
    const float* kh = k.data() + s.kv_head_of(row.bh) * cap * D;
    const float* vh = v.data() + s.kv_head_of(row.bh) * cap * D;
    const std::int64_t last = s.L - s.S + row.i, first = s.first_key(last);
    double max = -INFINITY;
    for (std::int64_t j = first; j <= last; ++j) {
      double dot = 0, sigma = 0;
      for (std::int64_t d = 0; d < D; ++d) {
        dot += double(qi[d]) * kh[j * D + d];
        sigma += std::abs(double(qi[d]) * kh[j * D + d]);
      }
      score[j] = dot * scale;
      max = std::max(max, score[j]);
      max_sigma = std::max(max_sigma, sigma * scale);
    }
    double sum = 0;
    for (std::int64_t j = first; j <= last; ++j) sum += score[j] = std::exp(score[j] - max);
    for (std::int64_t d = 0; d < D; ++d) {
      double ref = 0, magnitude = 0;
      for (std::int64_t j = first; j <= last; ++j) {
        ref += score[j] / sum * vh[j * D + d];
        magnitude += score[j] / sum * std::abs(double(vh[j * D + d]));
      }
      err.add(o[(row.bh * s.S + row.i) * D + d], ref, magnitude);
    }
  }
  return {err.value(), 2 * fp32_gamma(double(D)) * max_sigma + 2 * fp32_gamma(double(s.L + 1)) +
                           16 * kFp32UnitRoundoff};
}

namespace {

class AttentionCase final : public WorkloadCase {
 public:
  AttentionCase(Backend& backend, const AttentionShape& s)
      : backend_(backend),
        shape_(s),
        q_(random_uniform(s.B * s.H * s.S * s.D, 21)),
        k_(random_uniform(s.B * s.H * s.L * s.D, 22)),
        v_(random_uniform(s.B * s.H * s.L * s.D, 23)),
        dq_(backend.upload_new(q_)),
        dk_(backend.upload_new(k_)),
        dv_(backend.upload_new(v_)),
        do_(backend.allocate(sizeof(float) * q_.size())),
        kernel_(backend.make_kernel(s)) {}

  void run() override { kernel_->run(dq_, dk_, dv_, do_); }

  double verify() override {
    backend_.upload(do_, nan_filled(q_.size()));
    run();
    backend_.synchronize();
    std::vector<float> o(q_.size());
    backend_.download(do_, o);
    const AttentionError e = attention_error(shape_, q_, k_, v_, o, rows_to_check());
    tolerance_ = e.tolerance;
    return e.max_rel_error;
  }

  double tolerance() const override { return tolerance_; }

 private:
  std::vector<AttentionRow> rows_to_check() const {
    const double macs = double(shape_.B) * shape_.H * shape_.S * shape_.L * shape_.D;
    const std::int64_t rows = shape_.B * shape_.H * shape_.S;
    if (macs <= kFullCheckMacs || rows <= kSampledRows) return {};
    // The first and last rows of the first and last heads, then random ones.
    const std::int64_t bh_last = shape_.B * shape_.H - 1;
    std::vector<AttentionRow> picks{
        {0, 0}, {0, shape_.S - 1}, {bh_last, 0}, {bh_last, shape_.S - 1}};
    std::mt19937_64 rng(24);
    std::uniform_int_distribution<std::int64_t> pick_bh(0, bh_last), pick_i(0, shape_.S - 1);
    while (picks.size() < kSampledRows) picks.push_back({pick_bh(rng), pick_i(rng)});
    return picks;
  }

  Backend& backend_;
  AttentionShape shape_;
  std::vector<float> q_, k_, v_;
  Buffer dq_, dk_, dv_, do_;
  std::unique_ptr<AttentionKernel> kernel_;
  double tolerance_ = 0;
};

}  // namespace

std::vector<std::string> AttentionWorkload::preset_shapes(Preset preset) const {
  std::vector<std::string> shapes;
  auto full = [&](std::int64_t B, std::int64_t H, std::int64_t S, std::int64_t D) {
    shapes.push_back(format_attention_shape({B, H, S, S, D}));
  };
  auto decode = [&](std::int64_t B, std::int64_t H, std::int64_t L, std::int64_t D) {
    shapes.push_back(format_attention_shape({B, H, 1, L, D}));
  };
  switch (preset) {
    case Preset::smoke:
      full(1, 2, 33, 16);
      decode(1, 2, 40, 16);
      break;
    case Preset::quick:  // GPT-2 124M: 12 heads of 64
      for (std::int64_t S : {128, 1024, 2048}) full(1, 12, S, 64);
      decode(1, 12, 1024, 64);
      break;
    case Preset::full:
      for (std::int64_t S : {128, 512, 1024, 2048, 4096, 8192}) full(1, 12, S, 64);
      for (std::int64_t D : {32, 80, 128}) full(1, 12, 1024, D);
      full(4, 12, 1024, 64);
      for (std::int64_t L : {128, 1024, 4096}) decode(1, 12, L, 64);
      break;
    case Preset::gpu:  // the fused-attention targets at S = 4096, D = 64 and 128; GPT-2 sizes
      full(1, 12, 128, 64);
      for (std::int64_t D : {64, 128}) full(1, 12, 4096, D);
      for (std::int64_t L : {1024, 4096}) decode(1, 12, L, 64);
      break;
  }
  return shapes;
}

Shape AttentionWorkload::parse(const std::string& text) const {
  return shape_of(parse_attention_shape(text));
}

Shape AttentionWorkload::shape_of(const AttentionShape& s) {
  return Shape(format_attention_shape(s), s);
}

std::string AttentionWorkload::phase(const Shape& shape) const {
  const AttentionShape& s = shape.as<AttentionShape>();
  return s.S == 1 && s.L > 1 ? "decode" : "prefill";
}

WorkCounts AttentionWorkload::counts(const Shape& shape) const {
  const AttentionShape& s = shape.as<AttentionShape>();
  // Query i sees L - S + i + 1 keys; each (query, key) pair costs 2D FLOPs for Q.K and 2D
  // for P.V (the softmax's few operations per pair are not counted, as FlashAttention does).
  const double pairs = double(s.S) * (s.L - s.S) + double(s.S) * (s.S + 1) / 2;
  WorkCounts w;
  w.flops = double(s.B) * s.H * pairs * 4.0 * s.D;
  w.bytes = 4.0 * s.B * s.H * s.D * (2.0 * s.S + 2.0 * s.L);
  w.n_units = s.B * s.H;
  // Q, K, V and O on the host (O downloaded to verify) and on the backend; a path that needs
  // more (the scalar score tensor) checks its own at preparation.
  w.host_bytes = w.backend_bytes = 4.0 * s.B * s.H * s.D * (2.0 * s.S + 2.0 * s.capacity());
  return w;
}

Shape AttentionWorkload::unit_shape(const Shape& shape) const {
  AttentionShape s = shape.as<AttentionShape>();
  s.B = s.H = 1;
  return shape_of(s);
}

std::unique_ptr<WorkloadCase> AttentionWorkload::make_case(Backend& backend,
                                                           const Shape& shape) const {
  return std::make_unique<AttentionCase>(backend, shape.as<AttentionShape>());
}

}  // namespace aigc
