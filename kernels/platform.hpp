#pragma once
// What the backends know of this machine beyond their ops, for the probe, the driver and
// `aigcbench list`, so that nothing outside kernels/ reaches into a backend's folder:
// Highway's SIMD targets (which the simd and openmp kernels dispatch to) and the CUDA devices.
#include <string>
#include <vector>

#include "kernels/cuda/device_query.hpp"
#include "kernels/cuda/gpu_peaks.hpp"
#include "kernels/simd/gemm.hpp"
#include "kernels/simd/gemm_bf16.hpp"
#include "kernels/simd/gemv_int8.hpp"

namespace aigc::platform {

// SIMD targets: the dispatched one ("AVX3", "AVX2", ...), all this CPU runs, the best of
// them, pinning one (--simd-target), whether bf16 products run on AVX512-BF16's dot, and
// whether the block formats' run on AVX512-VNNI's int8 dot.
using simd::available_targets;
using simd::best_target;
using simd::bf16_dot_dispatched;
using simd::dispatched_target;
using simd::force_target;
using simd::int8_dot_dispatched;
using simd::is_int8_activation_format;

// CUDA devices: what is visible, device 0's free memory, its measured peaks.
using cuda::device_free_bytes;
using cuda::DeviceSummary;
using cuda::GpuPeaks;
using cuda::measure_gpu_peaks;
using cuda::query_devices;

}  // namespace aigc::platform
