#pragma once
// The cublas backend: the shared GPU backend with the cuBLAS and cuBLASLt handles its kernels
// (matmul.cpp, attention.cpp beside this file) use, made on first use.
#include "core/backend.hpp"
#include "kernels/cublas/handles.hpp"
#include "kernels/cuda/descriptors.hpp"
#include "kernels/cuda/gpu_backend.hpp"

namespace aigc::cublas {

class CublasBackend final : public cuda::GpuBackend {
 public:
  using GpuBackend::GpuBackend;
  Handles& handles();

 private:
  Handles handles_;
};

}  // namespace aigc::cublas
