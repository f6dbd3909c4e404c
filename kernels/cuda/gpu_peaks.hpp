#pragma once
// The GPU's ceilings for the roofline: measured (device-to-device copy, cuBLAS GEMM) beside
// the datasheet figures derived from the device properties.
#include <optional>
#include <string>

namespace aigc::cuda {

struct GpuPeaks {
  std::string name;
  int compute_major = 0, compute_minor = 0, sm_count = 0;
  double copy_bytes_per_s = 0;       // measured: 1 GiB device-to-device, bytes read + written
  double fp32_flops = 0;             // measured: best cuBLAS SGEMM (no TF32)
  double bf16_flops = 0;             // measured: best cuBLAS bf16 GEMM, fp32 accumulation
  double datasheet_fp32_flops = 0;   // SMs x FP32 lanes per SM x 2 x peak clock
  double datasheet_bytes_per_s = 0;  // 2 (double data rate) x memory clock x bus width
};

// Null when there is no usable device (or CUDA support was not built).
std::optional<GpuPeaks> measure_gpu_peaks();

}  // namespace aigc::cuda
