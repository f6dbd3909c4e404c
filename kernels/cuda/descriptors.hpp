#pragma once
// The GPU backends' descriptors, compiled with or without the CUDA toolkit so that `list`
// and a run can always say what each one is and why it cannot run here.
#include <memory>

#include "core/backend.hpp"

namespace aigc::cuda {

// Available when device 0 exists and runs the compiled code (compute capability >= 8.0).
Availability device_availability();
// The device's architecture, "sm_90"; "none" without a device.
std::string device_target();

// The GPU backends' kernel tables (core/kernel_table.hpp), defined beside the descriptors so
// that they exist in a build without the toolkit too (empty there: no kernels were built).
// gpu_kernels(): our vector kernels (layernorm, rmsnorm, elementwise, rope), shared by the
// tables built on it: cuda_kernels() (our matmul and attention, the variant a backend names),
// cublas_kernels() (cuBLASLt matmul, batched-SGEMM attention). cuda_bf16_kernels(): the bf16
// tensor-core matmul alone (the decoder's tolerances are derived for fp32 arithmetic).
KernelTable& gpu_kernels();
KernelTable& cuda_kernels();
KernelTable& cuda_bf16_kernels();
KernelTable& cublas_kernels();

// Built by kernels/cuda/backend.cpp and kernels/cublas/backend.cpp, or, without the toolkit,
// by unavailable_backends.cpp (which says CUDA support was not built).
std::unique_ptr<Backend> new_cuda_backend(const BackendDescriptor& descriptor);
std::unique_ptr<Backend> new_cublas_backend(const BackendDescriptor& descriptor);

}  // namespace aigc::cuda

namespace aigc {

const BackendDescriptor& cuda_naive_descriptor();
const BackendDescriptor& cuda_tiled_descriptor();
const BackendDescriptor& cuda_descriptor();
const BackendDescriptor& cuda_bf16_descriptor();
const BackendDescriptor& cublas_descriptor();

}  // namespace aigc
