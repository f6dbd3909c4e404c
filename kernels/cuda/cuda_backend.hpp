#pragma once
// A `cuda` backend: the shared GPU backend at one step of our kernels' ladder (which matmul and
// which attention), as kernels/cuda/backend.cpp's table of variants names them.
#include "kernels/cuda/gpu_backend.hpp"
#include "kernels/cuda/launch.hpp"

namespace aigc::cuda {

enum class AttentionVariant { naive, fused, none };

struct Variant {
  const char* name;
  MatmulVariant matmul;
  AttentionVariant attention;
};

class CudaBackend final : public GpuBackend {
 public:
  CudaBackend(const BackendDescriptor& d, const Variant& v) : GpuBackend(d), v_(v) {}
  const Variant& variant() const { return v_; }

 private:
  Variant v_;
};

}  // namespace aigc::cuda
