// Row-major C[M,N] = A[M,K] B[K,N] is column-major C^T[N,M] = B^T A^T: cuBLASLt multiplies
// our B (as its A) by our A (as its B) into C, with no copies. A transposed B ([N,K]
// row-major) is column-major [K,N], so it goes in with op T.

#include <fmt/format.h>

#include "kernels/cublas/kernels.hpp"

namespace aigc::cublas {
namespace {

class LtMatmul final : public MatmulKernel {
 public:
  LtMatmul(cuda::GpuBackend& backend, Handles& handles, const MatmulShape& s)
      : MatmulKernel(s), backend_(backend), handles_(handles) {
    const int M = to_int(s.M, "M"), N = to_int(s.N, "N"), K = to_int(s.K, "K");
    AIGC_CUBLAS_CHECK(cublasLtMatmulDescCreate(&op_, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    const cublasOperation_t op_a = s.transpose_b ? CUBLAS_OP_T : CUBLAS_OP_N;
    const cublasOperation_t op_b = CUBLAS_OP_N;
    AIGC_CUBLAS_CHECK(
        cublasLtMatmulDescSetAttribute(op_, CUBLASLT_MATMUL_DESC_TRANSA, &op_a, sizeof(op_a)));
    AIGC_CUBLAS_CHECK(
        cublasLtMatmulDescSetAttribute(op_, CUBLASLT_MATMUL_DESC_TRANSB, &op_b, sizeof(op_b)));
    if (s.bias) {
      const cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_BIAS;
      AIGC_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op_, CUBLASLT_MATMUL_DESC_EPILOGUE,
                                                       &epilogue, sizeof(epilogue)));
    }
    // Its A: our B, [N,K] column-major (ld N), or with op T stored [K,N] (ld K).
    if (s.transpose_b) {
      AIGC_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&a_layout_, CUDA_R_32F, K, N, K));
    } else {
      AIGC_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&a_layout_, CUDA_R_32F, N, K, N));
    }
    AIGC_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&b_layout_, CUDA_R_32F, K, M, K));  // our A
    AIGC_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&c_layout_, CUDA_R_32F, N, M, N));  // our C

    cublasLtMatmulPreference_t pref = nullptr;
    AIGC_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
    AIGC_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(
        pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &handles.workspace_bytes,
        sizeof(handles.workspace_bytes)));
    cublasLtMatmulHeuristicResult_t result{};
    int found = 0;
    const cublasStatus_t status = cublasLtMatmulAlgoGetHeuristic(
        handles.lt, op_, a_layout_, b_layout_, c_layout_, c_layout_, pref, 1, &result, &found);
    cublasLtMatmulPreferenceDestroy(pref);
    AIGC_CUBLAS_CHECK(status);
    if (found == 0) throw UnsupportedOp("cuBLASLt has no fp32 algorithm for this matmul");
    algo_ = result.algo;
  }
  ~LtMatmul() override {
    if (c_layout_ != nullptr) cublasLtMatrixLayoutDestroy(c_layout_);
    if (b_layout_ != nullptr) cublasLtMatrixLayoutDestroy(b_layout_);
    if (a_layout_ != nullptr) cublasLtMatrixLayoutDestroy(a_layout_);
    if (op_ != nullptr) cublasLtMatmulDescDestroy(op_);
  }

  void compute(const Buffer& a, const Buffer& b, const Buffer* bias, Buffer& c) override {
    if (shape().bias) {
      const void* p = bias->data();
      AIGC_CUBLAS_CHECK(
          cublasLtMatmulDescSetAttribute(op_, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &p, sizeof(p)));
    }
    const float alpha = 1.0f, beta = 0.0f;
    AIGC_CUBLAS_CHECK(cublasLtMatmul(handles_.lt, op_, &alpha, b.data(), a_layout_, a.data(),
                                     b_layout_, &beta, c.data(), c_layout_, c.data(), c_layout_,
                                     &algo_, handles_.workspace.data(), handles_.workspace_bytes,
                                     backend_.stream()));
  }

 private:
  cuda::GpuBackend& backend_;
  Handles& handles_;
  cublasLtMatmulDesc_t op_ = nullptr;
  cublasLtMatrixLayout_t a_layout_ = nullptr, b_layout_ = nullptr, c_layout_ = nullptr;
  cublasLtMatmulAlgo_t algo_{};
};

}  // namespace

std::unique_ptr<MatmulKernel> make_matmul_kernel(cuda::GpuBackend& backend, Handles& handles,
                                                 const MatmulShape& shape) {
  return std::make_unique<LtMatmul>(backend, handles, shape);
}

}  // namespace aigc::cublas
