#pragma once
// The cuBLAS and cuBLASLt handles of a backend, bound to its stream, and the status check
// every cuBLAS call goes through.
#include <cublasLt.h>
#include <cublas_v2.h>

#include <cstdint>
#include <memory>
#include <type_traits>

#include "core/buffer.hpp"

namespace aigc::cublas {

void check(cublasStatus_t status, const char* call, const char* file, int line);

// cuBLAS takes int sizes: a larger one is UnsupportedOp naming the size, never a wrap-around.
int to_int(std::int64_t v, const char* what);

// The heuristic's answer: CUBLAS_STATUS_NOT_SUPPORTED, or no algorithm found, means cuBLASLt
// has no algorithm for this problem (UnsupportedOp: a skipped row, not an error); any other
// failure throws as check() does.
void check_heuristic(cublasStatus_t status, int found, const char* what);

// RAII holders: a constructor that throws half-way still releases what it made.
template <typename T, cublasStatus_t (*Destroy)(T)>
struct Deleter {
  void operator()(T p) const { Destroy(p); }
};
template <typename T, cublasStatus_t (*Destroy)(T)>
using Holder = std::unique_ptr<std::remove_pointer_t<T>, Deleter<T, Destroy>>;
using BlasHandle = Holder<cublasHandle_t, cublasDestroy>;
using LtHandle = Holder<cublasLtHandle_t, cublasLtDestroy>;
using LtMatmulDesc = Holder<cublasLtMatmulDesc_t, cublasLtMatmulDescDestroy>;
using LtLayout = Holder<cublasLtMatrixLayout_t, cublasLtMatrixLayoutDestroy>;
using LtPreference = Holder<cublasLtMatmulPreference_t, cublasLtMatmulPreferenceDestroy>;

struct Handles {
  // Declared first, so released last: after the handles that were given it.
  Buffer workspace;  // given to both: nothing is allocated while a CUDA graph records
  std::size_t workspace_bytes = 0;
  BlasHandle blas;
  LtHandle lt;
};

}  // namespace aigc::cublas

#define AIGC_CUBLAS_CHECK(call) ::aigc::cublas::check((call), #call, __FILE__, __LINE__)
