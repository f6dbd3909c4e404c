// The decoder's head layouts: a QKV projection's output split into per-head queries and the KV
// caches, and the attention output merged back. Data movement: exact, on every backend.
#include <cstring>

#include "core/random.hpp"
#include "core/verify.hpp"
#include "workloads/op_cases/cases.hpp"

namespace aigc {
namespace {

constexpr std::int64_t kMax = 1 << 16;

HeadsShape heads_of(const OpVars& v) {
  return {.tokens = v.at("tokens"),
          .heads = v.at("heads"),
          .head_dim = v.at("head_dim"),
          .capacity = v.at("pos0") + v.at("tokens"),
          .kv_heads = v.at("kv_heads")};
}

// Exact ops: any difference is an error, so the error is 0 or infinite.
double exact_error(const std::vector<float>& got, const std::vector<float>& want) {
  MaxRelativeError err;
  for (std::size_t i = 0; i < want.size(); ++i) {
    err.add(got[i], want[i], 1.0);
    if (std::memcmp(&got[i], &want[i], sizeof(float)) != 0) err.add(got[i], want[i] + 1.0, 0.0);
  }
  return err.value();
}

std::vector<OpVars> heads_test_shapes(bool with_pos) {
  std::vector<OpVars> shapes{{{"tokens", 1}, {"heads", 1}, {"head_dim", 1}},
                             {{"tokens", 5}, {"heads", 3}, {"head_dim", 4}},
                             {{"tokens", 7}, {"heads", 12}, {"head_dim", 64}}};
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    if (with_pos) shapes[i]["pos0"] = std::int64_t(i) * 2, shapes[i]["kv_heads"] = shapes[i]["heads"];
  }
  // Grouped-query: SmolLM2's 9 query heads on 3 KV heads.
  if (with_pos) shapes.push_back({{"tokens", 6}, {"heads", 9}, {"kv_heads", 3}, {"head_dim", 64}, {"pos0", 3}});
  return shapes;
}

std::vector<OpVars> heads_bench_shapes(bool with_pos) {
  std::vector<OpVars> shapes{{{"tokens", 1}, {"heads", 12}, {"head_dim", 64}},
                             {{"tokens", 128}, {"heads", 12}, {"head_dim", 64}}};
  if (with_pos) {
    shapes[0]["pos0"] = 127, shapes[1]["pos0"] = 0;
    shapes[0]["kv_heads"] = shapes[1]["kv_heads"] = 12;
  }
  return shapes;
}

// qkv [T, H + 2 Hkv, D] -> q [H, T, D] and rows pos0.. of the K and V caches
// [Hkv, pos0 + T, D].
class SplitHeadsCase final : public OpCase {
 public:
  std::string name() const override { return "split_heads"; }
  std::optional<Op> op() const override { return std::nullopt; }
  std::vector<ShapeKey> vars() const override {
    return {{"tokens", 1, kMax},
            {"heads", 1, 1024},
            {"kv_heads", 1, 1024},
            {"head_dim", 1, 1024},
            {"pos0", 0, kMax}};
  }
  std::vector<OpVars> test_shapes() const override { return heads_test_shapes(true); }
  std::vector<OpVars> bench_shapes() const override { return heads_bench_shapes(true); }
  WorkCounts counts(const OpVars& v) const override {
    const double n = double(v.at("tokens")) * heads_of(v).qkv_row();
    return {.flops = 0, .bytes = 8 * n, .n_units = 1};
  }
  std::vector<std::vector<float>> inputs(const OpVars& v) const override {
    return {random_uniform(v.at("tokens") * heads_of(v).qkv_row(), 51)};
  }
  std::vector<std::int64_t> output_floats(const OpVars& v) const override {
    const HeadsShape s = heads_of(v);
    const std::int64_t cache = s.kv_head_count() * s.capacity * s.head_dim;
    return {s.heads * s.tokens * s.head_dim, cache, cache};
  }
  OpRun prepare(Backend& backend, const OpVars& v) const override {
    if (v.at("kv_heads") > v.at("heads") || v.at("heads") % v.at("kv_heads") != 0)
      throw InvalidArgument("shapes", "split_heads: heads must be a multiple of kv_heads");
    return [&backend, s = heads_of(v), pos0 = v.at("pos0")](const std::vector<Buffer>& in,
                                                            std::vector<Buffer>& out) {
      backend.moves().split_heads(s, pos0, in[0], out[0], out[1], out[2]);
    };
  }
  // The cache rows before pos0 are not written: they stay poisoned (NaN), and only rows
  // pos0.. are compared.
  OpCheck check(const OpVars& v, const std::vector<std::vector<float>>& in,
                const std::vector<std::vector<float>>& out, const OperandRounding&) const override {
    const HeadsShape s = heads_of(v);
    const std::int64_t T = s.tokens, H = s.heads, Hkv = s.kv_head_count(), D = s.head_dim;
    const std::int64_t R = s.qkv_row(), pos0 = v.at("pos0");
    std::vector<float> q(H * T * D), k_got, k_want, v_got, v_want;
    for (std::int64_t t = 0; t < T; ++t) {
      for (std::int64_t h = 0; h < H; ++h) {
        for (std::int64_t d = 0; d < D; ++d) q[(h * T + t) * D + d] = in[0][t * R + h * D + d];
      }
      for (std::int64_t h = 0; h < Hkv; ++h) {
        for (std::int64_t d = 0; d < D; ++d) {
          const std::int64_t row = (h * s.capacity + pos0 + t) * D + d;
          k_want.push_back(in[0][t * R + (H + h) * D + d]);
          k_got.push_back(out[1][row]);
          v_want.push_back(in[0][t * R + (H + Hkv + h) * D + d]);
          v_got.push_back(out[2][row]);
        }
      }
    }
    return {
        std::max({exact_error(out[0], q), exact_error(k_got, k_want), exact_error(v_got, v_want)}),
        0.0};
  }
};

// o [H, T, D] -> y [T, H * D].
class MergeHeadsCase final : public OpCase {
 public:
  std::string name() const override { return "merge_heads"; }
  std::optional<Op> op() const override { return std::nullopt; }
  std::vector<ShapeKey> vars() const override {
    return {{"tokens", 1, kMax}, {"heads", 1, 1024}, {"head_dim", 1, 1024}};
  }
  std::vector<OpVars> test_shapes() const override { return heads_test_shapes(false); }
  std::vector<OpVars> bench_shapes() const override { return heads_bench_shapes(false); }
  WorkCounts counts(const OpVars& v) const override {
    const double n = double(v.at("tokens")) * v.at("heads") * v.at("head_dim");
    return {.flops = 0, .bytes = 8 * n, .n_units = 1};
  }
  std::vector<std::vector<float>> inputs(const OpVars& v) const override {
    return {random_uniform(v.at("tokens") * v.at("heads") * v.at("head_dim"), 52)};
  }
  std::vector<std::int64_t> output_floats(const OpVars& v) const override {
    return {v.at("tokens") * v.at("heads") * v.at("head_dim")};
  }
  OpRun prepare(Backend& backend, const OpVars& v) const override {
    const HeadsShape s{.tokens = v.at("tokens"),
                       .heads = v.at("heads"),
                       .head_dim = v.at("head_dim"),
                       .capacity = v.at("tokens")};
    return [&backend, s](const std::vector<Buffer>& in, std::vector<Buffer>& out) {
      backend.moves().merge_heads(s, in[0], out[0]);
    };
  }
  OpCheck check(const OpVars& v, const std::vector<std::vector<float>>& in,
                const std::vector<std::vector<float>>& out, const OperandRounding&) const override {
    const std::int64_t T = v.at("tokens"), H = v.at("heads"), D = v.at("head_dim");
    std::vector<float> want(T * H * D);
    for (std::int64_t h = 0; h < H; ++h)
      for (std::int64_t t = 0; t < T; ++t)
        for (std::int64_t d = 0; d < D; ++d) want[(t * H + h) * D + d] = in[0][(h * T + t) * D + d];
    return {exact_error(out[0], want), 0.0};
  }
};

}  // namespace

const OpCase& split_heads_case() {
  static const SplitHeadsCase c;
  return c;
}

const OpCase& merge_heads_case() {
  static const MergeHeadsCase c;
  return c;
}

}  // namespace aigc
