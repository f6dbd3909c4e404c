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
    cublasLtMatmulDesc_t op = nullptr;
    AIGC_CUBLAS_CHECK(cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    op_.reset(op);
    const cublasOperation_t op_a = s.transpose_b ? CUBLAS_OP_T : CUBLAS_OP_N;
    const cublasOperation_t op_b = CUBLAS_OP_N;
    AIGC_CUBLAS_CHECK(
        cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &op_a, sizeof(op_a)));
    AIGC_CUBLAS_CHECK(
        cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB, &op_b, sizeof(op_b)));
    if (s.bias) {
      const cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_BIAS;
      AIGC_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue,
                                                       sizeof(epilogue)));
    }
    // Its A: our B, [N,K] column-major (ld N), or with op T stored [K,N] (ld K).
    a_layout_ = s.transpose_b ? layout(K, N, K) : layout(N, K, N);
    b_layout_ = layout(K, M, K);  // our A
    c_layout_ = layout(N, M, N);  // our C

    cublasLtMatmulPreference_t pref = nullptr;
    AIGC_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
    const LtPreference pref_holder(pref);
    AIGC_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(
        pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &handles.workspace_bytes,
        sizeof(handles.workspace_bytes)));
    cublasLtMatmulHeuristicResult_t result{};
    int found = 0;
    check_heuristic(
        cublasLtMatmulAlgoGetHeuristic(handles.lt.get(), op, a_layout_.get(), b_layout_.get(),
                                       c_layout_.get(), c_layout_.get(), pref, 1, &result, &found),
        found, "this fp32 matmul");
    algo_ = result.algo;
  }

  void compute(const Buffer& a, const Buffer& b, const Buffer* bias, Buffer& c) override {
    if (shape().bias) {
      const void* p = bias->data();
      AIGC_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op_.get(), CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                                                       &p, sizeof(p)));
    }
    const float alpha = 1.0f, beta = 0.0f;
    AIGC_CUBLAS_CHECK(cublasLtMatmul(
        handles_.lt.get(), op_.get(), &alpha, b.data(), a_layout_.get(), a.data(), b_layout_.get(),
        &beta, c.data(), c_layout_.get(), c.data(), c_layout_.get(), &algo_,
        handles_.workspace.data(), handles_.workspace_bytes, backend_.stream()));
  }

 private:
  static LtLayout layout(int rows, int cols, int ld) {
    cublasLtMatrixLayout_t l = nullptr;
    AIGC_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&l, CUDA_R_32F, rows, cols, ld));
    return LtLayout(l);
  }

  cuda::GpuBackend& backend_;
  Handles& handles_;
  LtMatmulDesc op_;
  LtLayout a_layout_, b_layout_, c_layout_;
  cublasLtMatmulAlgo_t algo_{};
};

}  // namespace

std::unique_ptr<MatmulKernel> make_matmul_kernel(cuda::GpuBackend& backend, Handles& handles,
                                                 const MatmulShape& shape) {
  return std::make_unique<LtMatmul>(backend, handles, shape);
}

}  // namespace aigc::cublas
