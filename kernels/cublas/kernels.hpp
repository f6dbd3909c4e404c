#pragma once
// cuBLAS-backed op kernels.
#include <memory>

#include "core/backend.hpp"
#include "kernels/cublas/handles.hpp"
#include "kernels/cuda/gpu_backend.hpp"

namespace aigc::cublas {

// cuBLASLt matmul, fp32 compute (no TF32), the bias fused as an epilogue.
std::unique_ptr<MatmulKernel> make_matmul_kernel(cuda::GpuBackend& backend, Handles& handles,
                                                 const MatmulShape& shape);
// Q K^T and P V as strided batched SGEMMs around our causal softmax kernel.
std::unique_ptr<AttentionKernel> make_attention_kernel(cuda::GpuBackend& backend, Handles& handles,
                                                       const AttentionShape& shape);

}  // namespace aigc::cublas
