#include "kernels/scalar/backend.hpp"

#include <cmath>
#include <limits>
#include <vector>

#include "core/machine.hpp"

namespace aigc::scalar {
namespace {

class ScalarAttention final : public AttentionKernel {
 public:
  explicit ScalarAttention(const AttentionShape& s) : AttentionKernel(s) {
    const double bytes = 4.0 * s.B * s.H * s.S * s.L;
    require_memory(bytes, "the scalar path's score tensor [B,H,S,L]");
    scores_.resize(static_cast<std::size_t>(s.B * s.H * s.S * s.L));
  }

  void compute(const Buffer& qb, const Buffer& kb, const Buffer& vb, Buffer& ob) override {
    const float* q = qb.as<const float>();
    const float* k = as_floats(kb, keys_);
    const float* v = as_floats(vb, values_);
    float* o = ob.as<float>();
    const std::int64_t S = shape().S, L = shape().L, D = shape().D, cap = shape().capacity();
    const float scale = 1.0f / std::sqrt(static_cast<float>(D));
    const float minus_inf = -std::numeric_limits<float>::infinity();

    for (std::int64_t bh = 0; bh < shape().B * shape().H; ++bh) {
      const float* qh = q + bh * S * D;
      const float* kh = k + shape().kv_head_of(bh) * cap * D;
      const float* vh = v + shape().kv_head_of(bh) * cap * D;
      float* oh = o + bh * S * D;
      float* sh = scores_.data() + bh * S * L;
      for (std::int64_t i = 0; i < S; ++i) {
        const std::int64_t last_key = L - S + i;  // causal: keys up to the query's own position
        const std::int64_t first_key = shape().first_key(last_key);  // a window's first
        float* row = sh + i * L;
        // Scores, masked.
        for (std::int64_t j = 0; j < L; ++j) {
          if (j > last_key || j < first_key) {
            row[j] = minus_inf;
            continue;
          }
          float dot = 0;
          for (std::int64_t d = 0; d < D; ++d) dot += qh[i * D + d] * kh[j * D + d];
          row[j] = dot * scale;
        }
        // Softmax: subtract the row maximum so exp never overflows.
        float max = minus_inf;
        for (std::int64_t j = 0; j < L; ++j) max = std::max(max, row[j]);
        float sum = 0;
        for (std::int64_t j = 0; j < L; ++j) {
          row[j] = j > last_key || j < first_key ? 0.0f : std::exp(row[j] - max);
          sum += row[j];
        }
        for (std::int64_t j = 0; j < L; ++j) row[j] /= sum;
        // Weighted sum of V.
        for (std::int64_t d = 0; d < D; ++d) oh[i * D + d] = 0;
        for (std::int64_t j = first_key; j <= last_key; ++j) {
          for (std::int64_t d = 0; d < D; ++d) oh[i * D + d] += row[j] * vh[j * D + d];
        }
      }
    }
  }

 private:
  // A cache as floats: in place for f32, else the L valid rows of each head read out of their
  // format (the same values every backend reads).
  const float* as_floats(const Buffer& cache, std::vector<float>& out) const {
    const AttentionShape& s = shape();
    if (s.kv_format == WeightFormat::f32) return cache.as<const float>();
    const std::int64_t heads = s.B * s.kv_head_count(), cap = s.capacity(), row = s.kv_row_bytes();
    out.resize(static_cast<std::size_t>(heads * cap * s.D));
    const auto* bytes = cache.as<const std::uint8_t>();
    for (std::int64_t h = 0; h < heads; ++h) {
      for (std::int64_t j = 0; j < s.L; ++j)
        load_kv_row(s.kv_format, bytes + (h * cap + j) * row, s.D,
                    out.data() + (h * cap + j) * s.D);
    }
    return out.data();
  }

  std::vector<float> scores_, keys_, values_;
};

}  // namespace

std::unique_ptr<AttentionKernel> make_attention_kernel(const AttentionShape& shape) {
  return std::make_unique<ScalarAttention>(shape);
}

AIGC_REGISTER_KERNEL(kernels(), AttentionShape,
                     [](Backend&, const AttentionShape& s) { return make_attention_kernel(s); });

}  // namespace aigc::scalar
