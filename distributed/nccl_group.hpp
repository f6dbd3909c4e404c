#pragma once
// The tensor-parallel decoder's ranks on GPUs: one device per rank (the rank's local index on
// its node), NCCL's collectives on the GPU backend's stream, NCCL's id handed out over MPI.
// Built where the CUDA toolkit has NCCL; elsewhere the factory says it was not built.
#include <memory>

#include "core/backend.hpp"
#include "decoder/tensor_parallel.hpp"

namespace aigc::dist {

// The world as a group of GPU ranks for `backend` (a cuda or cublas backend, not yet
// allocating: this binds the process to its device first). Throws UnsupportedOp saying why
// where it cannot be (NCCL not built, fewer GPUs than ranks). Collective: every rank calls it.
std::unique_ptr<TensorGroup> make_nccl_group(Backend& backend);

}  // namespace aigc::dist
