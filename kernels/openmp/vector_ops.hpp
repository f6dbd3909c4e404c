#pragma once
// Layernorm, rmsnorm, the elementwise ops and rope: the simd kernels over row / element ranges, one
// range per thread. Small calls (a decode step's one row) stay on the calling thread,
// where waking the team would cost more than the work.
#include <memory>

#include "core/backend.hpp"

namespace aigc::openmp {

std::unique_ptr<LayernormKernel> make_layernorm_kernel(const LayernormShape& shape, int threads);
std::unique_ptr<RmsnormKernel> make_rmsnorm_kernel(const RmsnormShape& shape, int threads);
std::unique_ptr<ElementwiseKernel> make_elementwise_kernel(const ElementwiseShape& shape,
                                                           int threads);
std::unique_ptr<RopeKernel> make_rope_kernel(const RopeShape& shape, int threads);

}  // namespace aigc::openmp
