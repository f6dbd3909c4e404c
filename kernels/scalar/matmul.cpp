#include "kernels/scalar/backend.hpp"

#include <vector>

namespace aigc::scalar {

void matmul(const MatmulShape& s, const float* a, const float* b, const float* bias, float* c) {
  // i-k-j order walks B and C along rows (unit stride), the order any C programmer
  // would write; the reference is plain, not deliberately slow.
  if (s.transpose_b) {
    // B stored [N, K]: each C element is a dot product of two contiguous rows.
    for (std::int64_t i = 0; i < s.M; ++i) {
      for (std::int64_t j = 0; j < s.N; ++j) {
        float acc = 0;
        for (std::int64_t k = 0; k < s.K; ++k) acc += a[i * s.K + k] * b[j * s.K + k];
        c[i * s.N + j] = (bias != nullptr ? bias[j] : 0.0f) + acc;
      }
    }
    return;
  }
  for (std::int64_t i = 0; i < s.M; ++i) {
    float* c_row = c + i * s.N;
    for (std::int64_t j = 0; j < s.N; ++j) c_row[j] = bias != nullptr ? bias[j] : 0.0f;
    for (std::int64_t k = 0; k < s.K; ++k) {
      const float a_ik = a[i * s.K + k];
      const float* b_row = b + k * s.N;
      for (std::int64_t j = 0; j < s.N; ++j) c_row[j] += a_ik * b_row[j];
    }
  }
}

void matmul_stored(const MatmulShape& s, const float* a, const std::uint8_t* b, const float* bias,
                   float* c) {
  // One row of B (a column of the product) dequantized at a time, then the same dot products.
  const std::int64_t stride = row_bytes(s.b_format, s.K);
  std::vector<float> row(static_cast<std::size_t>(s.K));
  for (std::int64_t j = 0; j < s.N; ++j) {
    dequantize(s.b_format, b + j * stride, s.K, row.data());
    for (std::int64_t i = 0; i < s.M; ++i) {
      float acc = 0;
      for (std::int64_t k = 0; k < s.K; ++k) acc += a[i * s.K + k] * row[k];
      c[i * s.N + j] = (bias != nullptr ? bias[j] : 0.0f) + acc;
    }
  }
}

namespace {

class ScalarMatmul final : public MatmulKernel {
 public:
  explicit ScalarMatmul(const MatmulShape& shape) : MatmulKernel(shape) {}
  void compute(const Buffer& a, const Buffer& b, const Buffer* bias, Buffer& c) override {
    if (shape().b_format != WeightFormat::f32) {
      matmul_stored(shape(), a.as<const float>(), b.as<const std::uint8_t>(),
                    bias != nullptr ? bias->as<const float>() : nullptr, c.as<float>());
      return;
    }
    matmul(shape(), a.as<const float>(), b.as<const float>(),
           bias != nullptr ? bias->as<const float>() : nullptr, c.as<float>());
  }

 private:
};

}  // namespace

std::unique_ptr<MatmulKernel> make_matmul_kernel(const MatmulShape& shape) {
  return std::make_unique<ScalarMatmul>(shape);
}

AIGC_REGISTER_KERNEL(kernels(), MatmulShape,
                     [](Backend&, const MatmulShape& s) { return make_matmul_kernel(s); });

}  // namespace aigc::scalar
