// The vendor reference on the GPU: cuBLASLt for matmul, cuBLAS batched SGEMMs for attention.
// The decoder's vector ops and data movement are the shared GPU kernels (gpu_backend); matmul.cpp
// and attention.cpp beside this file register the vendor's in cuda::cublas_kernels().
#include <limits>
#include <string>

#include <fmt/format.h>

#include "kernels/cublas/backend.hpp"

namespace aigc {
namespace cublas {

// Built in locals and kept only when every step succeeded: a set-up that throws half-way
// leaves no handle without its stream or workspace behind.
Handles& CublasBackend::handles() {
  if (!handles_.blas) {
    cudaStream_t s = stream();  // throws when there is no device
    Handles h;
    cublasHandle_t blas = nullptr;
    AIGC_CUBLAS_CHECK(cublasCreate(&blas));
    h.blas.reset(blas);
    AIGC_CUBLAS_CHECK(cublasSetStream(blas, s));
    // Plain fp32: TF32 tensor-core math would round the operands to 10 bits.
    AIGC_CUBLAS_CHECK(cublasSetMathMode(blas, CUBLAS_DEFAULT_MATH));
    h.workspace_bytes = std::size_t{32} << 20;
    h.workspace = cuda::allocate_workspace(h.workspace_bytes, "cuBLAS workspace");
    AIGC_CUBLAS_CHECK(cublasSetWorkspace(blas, h.workspace.data(), h.workspace_bytes));
    cublasLtHandle_t lt = nullptr;
    AIGC_CUBLAS_CHECK(cublasLtCreate(&lt));
    h.lt.reset(lt);
    handles_ = std::move(h);
  }
  return handles_;
}

void check(cublasStatus_t status, const char* call, const char* file, int line) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  throw std::runtime_error(fmt::format("cuBLAS error {} ({}) in {} at {}:{}",
                                       cublasGetStatusName(status), cublasGetStatusString(status),
                                       call, file, line));
}

void check_heuristic(cublasStatus_t status, int found, const char* what) {
  if (status == CUBLAS_STATUS_NOT_SUPPORTED || (status == CUBLAS_STATUS_SUCCESS && found == 0)) {
    throw UnsupportedOp(fmt::format("cuBLASLt has no algorithm for {}", what));
  }
  check(status, "cublasLtMatmulAlgoGetHeuristic", __FILE__, __LINE__);
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
  return std::make_unique<cublas::CublasBackend>(d);
}

}  // namespace cuda

}  // namespace aigc
