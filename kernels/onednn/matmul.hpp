#pragma once
#include "core/backend.hpp"

namespace aigc::onednn {

// A dnnl::matmul primitive built once for the shape and thread count, then reused.
std::unique_ptr<MatmulKernel> make_matmul_kernel(const MatmulShape& shape, int threads);

}  // namespace aigc::onednn
