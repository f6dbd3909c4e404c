#pragma once
// The tensor-parallel decoder's ranks on MPI (decoder/tensor_parallel.hpp): every rank of the
// world, on a communicator of their own (a duplicate of the world's), so that the model's
// collectives never match the driver's agreements between ranks.
#include <memory>

#include "core/backend.hpp"
#include "decoder/tensor_parallel.hpp"

namespace aigc::dist {

// The world as a group of `ranks` for `backend`: MPI's collectives on host buffers for a CPU
// backend, NCCL's on the device for a GPU backend (distributed/nccl_group.hpp). Throws
// InvalidArgument naming `tp` when the run has another number of ranks (mpirun -np must equal
// tp), on every rank alike. Collective: every rank calls it.
std::unique_ptr<TensorGroup> make_world_tensor_group(int ranks, Backend& backend);

}  // namespace aigc::dist
