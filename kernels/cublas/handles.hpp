#pragma once
// The cuBLAS and cuBLASLt handles of a backend, bound to its stream, and the status check
// every cuBLAS call goes through.
#include <cublasLt.h>
#include <cublas_v2.h>

#include <cstdint>

#include "core/buffer.hpp"

namespace aigc::cublas {

void check(cublasStatus_t status, const char* call, const char* file, int line);

// cuBLAS takes int sizes: a larger one is UnsupportedOp naming the size, never a wrap-around.
int to_int(std::int64_t v, const char* what);

struct Handles {
  cublasHandle_t blas = nullptr;
  cublasLtHandle_t lt = nullptr;
  Buffer workspace;  // given to both: nothing is allocated while a CUDA graph records
  std::size_t workspace_bytes = 0;
};

}  // namespace aigc::cublas

#define AIGC_CUBLAS_CHECK(call) ::aigc::cublas::check((call), #call, __FILE__, __LINE__)
