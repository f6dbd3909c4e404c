#pragma once
// The tensor-parallel decoder's ranks on MPI (decoder/tensor_parallel.hpp): every rank of the
// world, on a communicator of their own (a duplicate of the world's), so that the model's
// collectives never match the driver's agreements between ranks.
#include <memory>

#include "decoder/tensor_parallel.hpp"

namespace aigc::dist {

// The world as a group of `ranks`: throws InvalidArgument naming `tp` when the run has another
// number of ranks (mpirun -np must equal tp), on every rank alike. Collective: every rank calls
// it. Its collectives take host buffers (CPU backends).
std::unique_ptr<TensorGroup> make_world_tensor_group(int ranks);

}  // namespace aigc::dist
