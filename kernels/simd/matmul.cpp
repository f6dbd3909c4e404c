// The simd backend's matmul: simd::gemm (kernels/simd/gemm.cpp), which packs fp32 B, computes on
// the stored formats directly and takes int8 activations where the CPU has VNNI.
#include "core/backend.hpp"
#include "kernels/simd/backend.hpp"
#include "kernels/simd/gemm.hpp"

namespace aigc::simd {
namespace {

class SimdMatmul final : public MatmulKernel {
 public:
  explicit SimdMatmul(const MatmulShape& shape) : MatmulKernel(shape) {}
  void compute(const Buffer& a, const Buffer& b, const Buffer* bias, Buffer& c) override {
    const bool stored = shape().b_format != WeightFormat::f32;
    gemm({.m = shape().M,
          .n = shape().N,
          .k = shape().K,
          .a = a.as<const float>(),
          .lda = shape().K,
          .b = b.as<const float>(),
          .ldb = shape().transpose_b ? shape().K : shape().N,
          .transpose_b = shape().transpose_b,
          .bias = bias != nullptr ? bias->as<const float>() : nullptr,
          .c = c.as<float>(),
          .ldc = shape().N,
          .b_format = shape().b_format,
          .b_stored = b.as<const std::uint8_t>(),
          .ldb_bytes = stored ? row_bytes(shape().b_format, shape().K) : 0});
  }
};

}  // namespace

AIGC_REGISTER_KERNEL(kernels(), MatmulShape, [](Backend&, const MatmulShape& s) {
  return std::unique_ptr<MatmulKernel>(std::make_unique<SimdMatmul>(s));
});

}  // namespace aigc::simd
