#include "core/errors.hpp"
#include "distributed/nccl_group.hpp"

namespace aigc::dist {

std::unique_ptr<TensorGroup> make_nccl_group(Backend& backend) {
  throw UnsupportedOp(backend.descriptor().name +
                      " has no tensor-parallel ranks in this build (NCCL was not found with the "
                      "CUDA toolkit)");
}

}  // namespace aigc::dist
