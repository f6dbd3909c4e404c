// How CUDA and cuBLAS failures are classified, checked without a device (the status codes are
// plain values; naming them needs only the runtime library): a sticky fault stops the run's GPU
// rows, cuBLASLt's "no algorithm" is a skipped row, anything else an error naming the call.
#include <catch2/catch.hpp>

#include "core/errors.hpp"
#include "kernels/cublas/handles.hpp"
#include "kernels/cuda/check.hpp"

using namespace aigc;

TEST_CASE(
    "a sticky CUDA error is a DeviceFault naming the error and the call, and others are not") {
  for (const cudaError_t sticky :
       {cudaErrorIllegalAddress, cudaErrorLaunchFailure, cudaErrorIllegalInstruction,
        cudaErrorMisalignedAddress, cudaErrorAssert, cudaErrorHardwareStackError}) {
    INFO(cudaGetErrorName(sticky));
    CHECK(cuda::is_sticky(sticky));
    CHECK_THROWS_AS(cuda::check(sticky, "kernel launch", "file.cu", 7), DeviceFault);
    CHECK_THROWS_WITH(
        cuda::check(sticky, "kernel launch", "file.cu", 7),
        Catch::Contains(cudaGetErrorName(sticky)) && Catch::Contains("kernel launch at file.cu:7"));
  }
  for (const cudaError_t recoverable :
       {cudaErrorInvalidValue, cudaErrorMemoryAllocation, cudaErrorInvalidConfiguration,
        cudaErrorStreamCaptureInvalidated, cudaErrorNoDevice}) {
    INFO(cudaGetErrorName(recoverable));
    CHECK_FALSE(cuda::is_sticky(recoverable));
    CHECK_THROWS_AS(cuda::check(recoverable, "cudaMalloc", "file.cpp", 3), cuda::CudaError);
  }
  CHECK_NOTHROW(cuda::check(cudaSuccess, "cudaMalloc", "file.cpp", 3));
}

TEST_CASE("cuBLASLt's heuristic without an algorithm is UnsupportedOp (a skipped row)") {
  CHECK_THROWS_AS(cublas::check_heuristic(CUBLAS_STATUS_NOT_SUPPORTED, 0, "this matmul"),
                  UnsupportedOp);
  CHECK_THROWS_WITH(cublas::check_heuristic(CUBLAS_STATUS_SUCCESS, 0, "this matmul"),
                    Catch::Contains("no algorithm for this matmul"));
  CHECK_NOTHROW(cublas::check_heuristic(CUBLAS_STATUS_SUCCESS, 1, "this matmul"));
  // Another failure is an error (naming the status), not a capability.
  try {
    cublas::check_heuristic(CUBLAS_STATUS_INVALID_VALUE, 0, "this matmul");
    FAIL("no exception");
  } catch (const UnsupportedOp&) {
    FAIL("an invalid value was taken for a missing algorithm");
  } catch (const std::runtime_error& e) {
    CHECK_THAT(e.what(), Catch::Contains("CUBLAS_STATUS_INVALID_VALUE"));
  }
}
