// The GPU half of the probe. Copies 1 GiB (far past the L2 cache) device to device for the
// memory ceiling, and times cuBLAS GEMMs at sizes large enough to reach the compute ceiling;
// each figure is the best of several runs, timed with CUDA events.
#include <cuda_bf16.h>

#include <algorithm>
#include <functional>

#include "kernels/cublas/handles.hpp"
#include "kernels/cuda/check.hpp"
#include "kernels/cuda/gpu_backend.hpp"
#include "kernels/cuda/gpu_peaks.hpp"

namespace aigc::cuda {
namespace {

// Best seconds of `reps` runs of `work` on `stream`, after one warm-up.
double best_seconds(cudaStream_t stream, int reps, const std::function<void()>& work) {
  const std::unique_ptr<DeviceTimer> timer = make_event_timer(stream);
  work();
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    timer->start();
    work();
    best = std::min(best, timer->stop());
  }
  return best;
}

// FP32 lanes per SM by architecture (CUDA programming guide, arithmetic instructions).
int fp32_lanes_per_sm(int major, int minor) {
  if (major == 8 && minor == 0) return 64;  // A100
  return 128;                               // 8.6, 8.9, 9.0 (H100, H200), 10.x
}

}  // namespace

std::optional<GpuPeaks> measure_gpu_peaks() {
  if (!device_availability().available) return std::nullopt;
  GpuPeaks p;
  int device = 0;
  AIGC_CUDA_CHECK(cudaGetDevice(&device));
  cudaDeviceProp prop{};
  AIGC_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  p.name = prop.name;
  p.compute_major = prop.major;
  p.compute_minor = prop.minor;
  p.sm_count = prop.multiProcessorCount;
  int clock_khz = 0, mem_clock_khz = 0, bus_bits = 0;
  AIGC_CUDA_CHECK(cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, device));
  AIGC_CUDA_CHECK(cudaDeviceGetAttribute(&mem_clock_khz, cudaDevAttrMemoryClockRate, device));
  AIGC_CUDA_CHECK(cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, device));
  p.datasheet_fp32_flops = double(p.sm_count) *
                           fp32_lanes_per_sm(p.compute_major, p.compute_minor) * 2.0 * clock_khz *
                           1e3;
  p.datasheet_bytes_per_s = 2.0 * mem_clock_khz * 1e3 * bus_bits / 8.0;

  cudaStream_t stream = nullptr;
  AIGC_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  cublasHandle_t blas = nullptr;
  try {
    const std::size_t copy_bytes = std::size_t{1} << 30;
    Buffer src = allocate_workspace(copy_bytes, "probe copy source");
    Buffer dst = allocate_workspace(copy_bytes, "probe copy destination");
    AIGC_CUDA_CHECK(cudaMemsetAsync(src.data(), 0, copy_bytes, stream));
    const double copy_s = best_seconds(stream, 10, [&] {
      AIGC_CUDA_CHECK(
          cudaMemcpyAsync(dst.data(), src.data(), copy_bytes, cudaMemcpyDeviceToDevice, stream));
    });
    p.copy_bytes_per_s = 2.0 * copy_bytes / copy_s;

    AIGC_CUBLAS_CHECK(cublasCreate(&blas));
    AIGC_CUBLAS_CHECK(cublasSetStream(blas, stream));
    AIGC_CUBLAS_CHECK(cublasSetMathMode(blas, CUBLAS_DEFAULT_MATH));
    const int n = 8192;
    const std::size_t elems = std::size_t(n) * n;
    Buffer a = allocate_workspace(elems * sizeof(float), "probe GEMM A");
    Buffer b = allocate_workspace(elems * sizeof(float), "probe GEMM B");
    Buffer c = allocate_workspace(elems * sizeof(float), "probe GEMM C");
    // Small nonzero values (0x3c3c3c3c is about 0.0115): no denormals, no overflow.
    AIGC_CUDA_CHECK(cudaMemsetAsync(a.data(), 0x3c, elems * sizeof(float), stream));
    AIGC_CUDA_CHECK(cudaMemsetAsync(b.data(), 0x3c, elems * sizeof(float), stream));
    const float one = 1.0f, zero = 0.0f;
    const double sgemm_s = best_seconds(stream, 5, [&] {
      AIGC_CUBLAS_CHECK(cublasSgemm(blas, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one,
                                    a.as<const float>(), n, b.as<const float>(), n, &zero,
                                    c.as<float>(), n));
    });
    p.fp32_flops = 2.0 * n * n * double(n) / sgemm_s;
    // bf16 operands in the same buffers (0x3c3c is a normal bf16, about 0.0115).
    const double bf16_s = best_seconds(stream, 10, [&] {
      AIGC_CUBLAS_CHECK(cublasGemmEx(blas, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, a.data(),
                                     CUDA_R_16BF, n, b.data(), CUDA_R_16BF, n, &zero, c.data(),
                                     CUDA_R_32F, n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    });
    p.bf16_flops = 2.0 * n * n * double(n) / bf16_s;
  } catch (...) {
    if (blas != nullptr) cublasDestroy(blas);
    cudaStreamDestroy(stream);
    throw;
  }
  cublasDestroy(blas);
  cudaStreamDestroy(stream);
  return p;
}

}  // namespace aigc::cuda
