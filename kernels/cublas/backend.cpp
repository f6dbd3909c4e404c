// The vendor reference on the GPU: cuBLASLt for matmul, cuBLAS batched SGEMMs for attention.
// The decoder's vector ops and data movement are the shared GPU kernels (gpu_backend).
#include <limits>
#include <string>

#include <fmt/format.h>

#include "kernels/cublas/kernels.hpp"

namespace aigc {
namespace {

class CublasBackend final : public cuda::GpuBackend {
 public:
  using GpuBackend::GpuBackend;
  ~CublasBackend() override {
    if (handles_.lt != nullptr) cublasLtDestroy(handles_.lt);
    if (handles_.blas != nullptr) cublasDestroy(handles_.blas);
  }

 protected:
  std::unique_ptr<MatmulKernel> new_matmul(const MatmulShape& shape) override {
    return cublas::make_matmul_kernel(*this, handles(), shape);
  }
  std::unique_ptr<AttentionKernel> new_attention(const AttentionShape& shape) override {
    return cublas::make_attention_kernel(*this, handles(), shape);
  }

 private:
  cublas::Handles& handles() {
    if (handles_.blas == nullptr) {
      cudaStream_t s = stream();  // throws when there is no device
      AIGC_CUBLAS_CHECK(cublasCreate(&handles_.blas));
      AIGC_CUBLAS_CHECK(cublasSetStream(handles_.blas, s));
      // Plain fp32: TF32 tensor-core math would round the operands to 10 bits.
      AIGC_CUBLAS_CHECK(cublasSetMathMode(handles_.blas, CUBLAS_DEFAULT_MATH));
      handles_.workspace_bytes = std::size_t{32} << 20;
      handles_.workspace = cuda::allocate_workspace(handles_.workspace_bytes, "cuBLAS workspace");
      AIGC_CUBLAS_CHECK(
          cublasSetWorkspace(handles_.blas, handles_.workspace.data(), handles_.workspace_bytes));
      AIGC_CUBLAS_CHECK(cublasLtCreate(&handles_.lt));
    }
    return handles_;
  }

  cublas::Handles handles_;
};

}  // namespace

namespace cublas {

void check(cublasStatus_t status, const char* call, const char* file, int line) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  throw std::runtime_error(fmt::format("cuBLAS error {} ({}) in {} at {}:{}",
                                       cublasGetStatusName(status), cublasGetStatusString(status),
                                       call, file, line));
}

int to_int(std::int64_t v, const char* what) {
  if (v < 1 || v > std::numeric_limits<int>::max()) {
    throw UnsupportedOp(
        fmt::format("cuBLAS takes {} up to {}, not {}", what, std::numeric_limits<int>::max(), v));
  }
  return static_cast<int>(v);
}

}  // namespace cublas

namespace cuda {

std::unique_ptr<Backend> new_cublas_backend(const BackendDescriptor& d) {
  return std::make_unique<CublasBackend>(d);
}

}  // namespace cuda

}  // namespace aigc
