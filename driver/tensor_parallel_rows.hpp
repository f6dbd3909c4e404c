#pragma once
// The rows of a tensor-parallel run (mpirun -np P, shapes with tp=P): each configuration built
// on every rank, verified, and timed with the ranks in step (distributed/communicator's bursts,
// not Google Benchmark's loop, whose iteration counts each rank would pick alone); then the
// same shape in one process on rank 0 alone, the others asleep, for the distributed model's
// T_compute(1 rank).
#include <ostream>
#include <vector>

#include "measure/measurement.hpp"
#include "measure/runner.hpp"

namespace aigc {

// Every spec on every rank, in the same order (all ranks call it alike); rank 0's list is the
// rows' measurements (the others' are theirs, and unused). Progress lines go to `out` (a null
// stream off rank 0). A failure after the ranks started exchanging (one rank throwing in the
// middle of a forward) ends the world (MPI_Abort, with the message): the others would wait for
// it for ever.
std::vector<Measurement> measure_tensor_parallel(const std::vector<BenchSpec>& specs,
                                                 const TimingPolicy& timing, std::ostream& out);

}  // namespace aigc
