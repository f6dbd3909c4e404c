#include "core/host_backend.hpp"
#include "kernels/simd/attention.hpp"
#include "kernels/simd/elementwise.hpp"
#include "kernels/simd/gemm.hpp"
#include "kernels/simd/layernorm.hpp"

namespace aigc {
namespace {

class SimdMatmul final : public MatmulKernel {
 public:
  explicit SimdMatmul(const MatmulShape& shape) : shape_(shape) {}
  void run(const Buffer& a, const Buffer& b, const Buffer* bias, Buffer& c) override {
    simd::gemm({.m = shape_.M,
                .n = shape_.N,
                .k = shape_.K,
                .a = a.as<const float>(),
                .lda = shape_.K,
                .b = b.as<const float>(),
                .ldb = shape_.transpose_b ? shape_.K : shape_.N,
                .transpose_b = shape_.transpose_b,
                .bias = bias != nullptr ? bias->as<const float>() : nullptr,
                .c = c.as<float>(),
                .ldc = shape_.N});
  }

 private:
  MatmulShape shape_;
};

class SimdBackend final : public HostBackend {
 public:
  std::string name() const override { return "simd"; }
  std::string description() const override {
    return "Google Highway, runtime-dispatched, packed and register-blocked, one thread";
  }
  ComputeClass compute_class() const override { return ComputeClass::simd_core; }
  std::string simd_target() const override { return simd::dispatched_target(); }
  std::unique_ptr<MatmulKernel> make_matmul(const MatmulShape& shape) override {
    return std::make_unique<SimdMatmul>(shape);
  }
  std::unique_ptr<AttentionKernel> make_attention(const AttentionShape& shape) override {
    return simd::make_attention_kernel(shape);
  }
  std::unique_ptr<LayernormKernel> make_layernorm(const LayernormShape& shape) override {
    return simd::make_layernorm_kernel(shape);
  }
  std::unique_ptr<ElementwiseKernel> make_elementwise(const ElementwiseShape& shape) override {
    return simd::make_elementwise_kernel(shape);
  }
};

}  // namespace

std::unique_ptr<Backend> make_simd_backend() { return std::make_unique<SimdBackend>(); }

}  // namespace aigc
