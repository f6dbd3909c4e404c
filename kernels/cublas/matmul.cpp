// Row-major C[M,N] = A[M,K] B[K,N] is column-major C^T[N,M] = B^T A^T: cuBLASLt multiplies
// our B (as its A) by our A (as its B) into C, with no copies. A transposed B ([N,K]
// row-major) is column-major [K,N], so it goes in with op T.
//
// bf16 weights (B stored [N,K] in bf16, as the file holds them): cuBLASLt multiplies bf16 only
// by bf16, so A is rounded to bf16 first (our kernel, into a buffer the kernel owns), then a
// bf16 x bf16 product with fp32 accumulation and fp32 C, as oneDNN 2.6 computes it on the CPU
// (the descriptor's bf16_activations: the tolerance widens by bf16's 2^-8).

#include <fmt/format.h>

#include "kernels/cublas/backend.hpp"
#include "kernels/cuda/launch.hpp"

namespace aigc::cublas {
namespace {

class LtMatmul final : public MatmulKernel {
 public:
  LtMatmul(cuda::GpuBackend& backend, Handles& handles, const MatmulShape& s)
      : MatmulKernel(s), backend_(backend), handles_(handles) {
    const int M = to_int(s.M, "M"), N = to_int(s.N, "N"), K = to_int(s.K, "K");
    if (bf16()) {
      a_bf16_ = cuda::allocate_workspace(static_cast<std::size_t>(s.M * s.K) * 2,
                                         "A rounded to bf16 for cuBLASLt");
    }
    cublasLtMatmulDesc_t op = nullptr;
    AIGC_CUBLAS_CHECK(cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    op_.reset(op);
    const bool b_rows = s.transpose_b || bf16();  // B stored [N,K]
    const cublasOperation_t op_a = b_rows ? CUBLAS_OP_T : CUBLAS_OP_N;
    const cublasOperation_t op_b = CUBLAS_OP_N;
    AIGC_CUBLAS_CHECK(
        cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &op_a, sizeof(op_a)));
    AIGC_CUBLAS_CHECK(
        cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB, &op_b, sizeof(op_b)));
    if (s.bias) {
      const cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_BIAS;
      AIGC_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue,
                                                       sizeof(epilogue)));
      const cudaDataType_t bias_type = CUDA_R_32F;  // the bias stays fp32 beside bf16 operands
      AIGC_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE,
                                                       &bias_type, sizeof(bias_type)));
    }
    const cudaDataType_t operands = bf16() ? CUDA_R_16BF : CUDA_R_32F;
    // Its A: our B, [N,K] column-major (ld N), or with op T stored [K,N] (ld K).
    a_layout_ = b_rows ? layout(operands, K, N, K) : layout(operands, N, K, N);
    b_layout_ = layout(operands, K, M, K);    // our A
    c_layout_ = layout(CUDA_R_32F, N, M, N);  // our C

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
        found, bf16() ? "this bf16 matmul" : "this fp32 matmul");
    algo_ = result.algo;
  }

  void compute(const Buffer& a, const Buffer& b, const Buffer* bias, Buffer& c) override {
    if (shape().bias) {
      const void* p = bias->data();
      AIGC_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op_.get(), CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                                                       &p, sizeof(p)));
    }
    const void* a_operand = a.data();
    if (bf16()) {
      cuda::launch_round_to_bf16(a.as<const float>(), shape().M * shape().K,
                                 a_bf16_.as<std::uint16_t>(), backend_.stream());
      a_operand = a_bf16_.data();
    }
    const float alpha = 1.0f, beta = 0.0f;
    AIGC_CUBLAS_CHECK(cublasLtMatmul(
        handles_.lt.get(), op_.get(), &alpha, b.data(), a_layout_.get(), a_operand, b_layout_.get(),
        &beta, c.data(), c_layout_.get(), c.data(), c_layout_.get(), &algo_,
        handles_.workspace.data(), handles_.workspace_bytes, backend_.stream()));
  }

 private:
  bool bf16() const { return shape().b_format == WeightFormat::bf16; }
  static LtLayout layout(cudaDataType_t type, int rows, int cols, int ld) {
    cublasLtMatrixLayout_t l = nullptr;
    AIGC_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&l, type, rows, cols, ld));
    return LtLayout(l);
  }

  cuda::GpuBackend& backend_;
  Handles& handles_;
  LtMatmulDesc op_;
  LtLayout a_layout_, b_layout_, c_layout_;
  cublasLtMatmulAlgo_t algo_{};
  Buffer a_bf16_;  // bf16 weights: A rounded to bf16, M x K 16-bit words
};

}  // namespace

AIGC_REGISTER_KERNEL(cuda::cublas_kernels(), MatmulShape, [](Backend& b, const MatmulShape& s) {
  auto& backend = dynamic_cast<CublasBackend&>(b);
  return std::unique_ptr<MatmulKernel>(std::make_unique<LtMatmul>(backend, backend.handles(), s));
});

}  // namespace aigc::cublas
