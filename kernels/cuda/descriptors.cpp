// The GPU backends: our own kernels, one backend per step of the matmul ladder so that a run
// shows what each optimization buys (as llm.c keeps its kernel versions side by side), then
// the vendor library:
//   cuda-naive  naive matmul, attention with the scores in global memory
//   cuda-tiled  shared-memory tiled matmul, fused attention
//   cuda        register-blocked matmul, fused attention (the fast fp32 path)
//   cuda-bf16   tensor-core matmul on bf16-rounded operands (matmul only: the decoder's
//               tolerances are derived for fp32 arithmetic)
//   cublas      cuBLASLt matmul, batched-SGEMM attention
#include "kernels/cuda/descriptors.hpp"

#include <cmath>
#include <iterator>

namespace aigc::cuda {

namespace {

// What every GPU backend shares: the device's clock, its availability and architecture, one
// host thread, and (by default) our own matmul and attention on the shared vector kernels.
BackendDescriptor gpu_descriptor(std::string name, std::string description) {
  BackendDescriptor d;
  d.name = std::move(name);
  d.description = std::move(description);
  d.compute_class = ComputeClass::gpu;
  d.kernels = [] { return &cuda_kernels(); };
  d.device_timer = true;
  d.availability = device_availability;
  d.simd_target = device_target;
  return d;
}

}  // namespace

KernelTable& gpu_kernels() {
  static KernelTable table("gpu");
  return table;
}
KernelTable& cuda_kernels() {
  static KernelTable table("cuda", &gpu_kernels());
  return table;
}
KernelTable& cuda_bf16_kernels() {
  static KernelTable table("cuda-bf16");
  return table;
}
KernelTable& cublas_kernels() {
  static KernelTable table("cublas", &gpu_kernels());
  return table;
}

}  // namespace aigc::cuda

namespace aigc {

#define AIGC_GPU_DESCRIPTOR(function, name, description, factory, ...) \
  const BackendDescriptor& function() {                                \
    static const BackendDescriptor d = [] {                            \
      BackendDescriptor g = cuda::gpu_descriptor(name, description);   \
      __VA_ARGS__;                                                     \
      g.make = [] { return factory(function()); };                     \
      return g;                                                        \
    }();                                                               \
    return d;                                                          \
  }

AIGC_GPU_DESCRIPTOR(cuda_naive_descriptor, "cuda-naive",
                    "own CUDA kernels, step 0: one thread per output, attention scores in "
                    "global memory",
                    cuda::new_cuda_backend)
AIGC_GPU_DESCRIPTOR(cuda_tiled_descriptor, "cuda-tiled",
                    "own CUDA kernels, step 1: shared-memory tiled matmul, fused attention",
                    cuda::new_cuda_backend)
// The reduced and compressed weight formats on the fast fp32 path (kernels/cuda/
// matmul_stored.cu): decode widens them in registers, prefill into fp32 for this GEMM.
AIGC_GPU_DESCRIPTOR(cuda_descriptor, "cuda",
                    "own CUDA kernels: register-blocked fp32 matmul, fused (flash) attention",
                    cuda::new_cuda_backend,
                    g.weight_formats = {std::begin(kAllWeightFormats), std::end(kAllWeightFormats)})
// bf16 keeps 8 significant bits: round to nearest is within 2^-8 relative. Matmul only: the
// decoder's tolerances are derived for fp32 arithmetic.
AIGC_GPU_DESCRIPTOR(
    cuda_bf16_descriptor, "cuda-bf16",
    "own CUDA kernels: bf16 tensor-core (WMMA) matmul, fp32 accumulation", cuda::new_cuda_backend,
    g.dtypes = {"bf16"};
    g.operand_rounding = std::ldexp(1.0, -8); g.kernels = [] { return &cuda::cuda_bf16_kernels(); };
    g.weight_formats = {WeightFormat::f32, WeightFormat::bf16})
// bf16 weights through cuBLASLt's bf16 x bf16 product: A is rounded to bf16 too.
AIGC_GPU_DESCRIPTOR(
    cublas_descriptor, "cublas",
    "cuBLAS / cuBLASLt (the vendor library on the GPU), fp32 without TF32",
    cuda::new_cublas_backend, g.kernels = [] { return &cuda::cublas_kernels(); };
    g.weight_formats = {WeightFormat::f32, WeightFormat::bf16};
    g.bf16_activations = {WeightFormat::bf16})
#undef AIGC_GPU_DESCRIPTOR

}  // namespace aigc
