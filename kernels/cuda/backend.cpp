// The `cuda` backends (kernels/cuda/descriptors.cpp lists the ladder): our own matmul and
// attention kernels (matmul.cpp, attention.cpp beside this one) on the shared GPU backend.
#include <stdexcept>

#include <fmt/format.h>

#include "kernels/cuda/cuda_backend.hpp"

namespace aigc::cuda {
namespace {

constexpr Variant kVariants[] = {
    {"cuda-naive", MatmulVariant::naive, AttentionVariant::naive},
    {"cuda-tiled", MatmulVariant::tiled, AttentionVariant::fused},
    {"cuda", MatmulVariant::register_blocked, AttentionVariant::fused},
    {"cuda-bf16", MatmulVariant::bf16_tensor_core, AttentionVariant::none},
};

}  // namespace

std::unique_ptr<Backend> new_cuda_backend(const BackendDescriptor& d) {
  for (const Variant& v : kVariants) {
    if (d.name == v.name) return std::make_unique<CudaBackend>(d, v);
  }
  throw std::logic_error(fmt::format("no CUDA kernel variant is named '{}'", d.name));
}

}  // namespace aigc::cuda
