// The cuda backends' matmul: the ladder's step the backend names (kernels/cuda/matmul*.cu),
// and the stored weight formats widened in registers (matmul_stored.cu).
#include <memory>

#include "core/weight_format.hpp"
#include "kernels/cuda/check.hpp"
#include "kernels/cuda/cuda_backend.hpp"
#include "kernels/cuda/descriptors.hpp"

namespace aigc::cuda {
namespace {

class CudaMatmul final : public MatmulKernel {
 public:
  CudaMatmul(GpuBackend& backend, MatmulVariant variant, const MatmulShape& s)
      : MatmulKernel(s), backend_(backend), variant_(variant) {
    if (stored()) {
      const std::int64_t floats = stored_matmul_workspace_floats(sizes(s));
      if (floats > 0) {
        workspace_ = allocate_workspace(static_cast<std::size_t>(floats) * sizeof(float),
                                        "the matmul's weights widened to fp32 (prefill)");
      }
      return;
    }
    const std::int64_t floats = matmul_workspace_floats(variant, sizes(s));
    if (floats > 0) {
      workspace_ = allocate_workspace(static_cast<std::size_t>(floats) * sizeof(float),
                                      "the matmul's split-K partial sums");
    }
  }
  void compute(const Buffer& a, const Buffer& b, const Buffer* bias, Buffer& c) override {
    GemmArgs g = sizes(shape());
    g.a = a.as<const float>();
    g.bias = shape().bias ? bias->as<const float>() : nullptr;
    g.c = c.as<float>();
    if (stored()) {
      const StoredB stored_b{.format = shape().b_format,
                             .bytes = b.as<const std::uint8_t>(),
                             .row_bytes = row_bytes(shape().b_format, shape().K)};
      launch_matmul_stored(variant_, g, stored_b, workspace_.as<float>(), backend_.stream());
      return;
    }
    g.b = b.as<const float>();
    launch_matmul(variant_, g, workspace_.as<float>(), backend_.stream());
  }

 private:
  bool stored() const { return shape().b_format != WeightFormat::f32; }
  static GemmArgs sizes(const MatmulShape& s) {
    return {.M = s.M, .N = s.N, .K = s.K, .transpose_b = s.transpose_b};
  }

  GpuBackend& backend_;
  MatmulVariant variant_;
  Buffer workspace_;
};

std::unique_ptr<MatmulKernel> make_matmul(Backend& b, const MatmulShape& s) {
  auto& backend = started<CudaBackend>(b);
  return std::make_unique<CudaMatmul>(backend, backend.variant().matmul, s);
}

}  // namespace

AIGC_REGISTER_KERNEL(cuda_kernels(), MatmulShape, make_matmul);
AIGC_REGISTER_KERNEL(cuda_bf16_kernels(), MatmulShape, make_matmul);

}  // namespace aigc::cuda
