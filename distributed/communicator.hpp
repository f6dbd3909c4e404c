#pragma once
// The ranks of a run started by mpirun (Open MPI): who this process is, and the few
// agreements the driver needs between ranks (the slowest rank's time, and from it the same
// iteration count and the same verdict on every rank). Everything distributed goes through MPI
// itself; this file only keeps MPI's C interface out of the rest of the code.
#include <functional>
#include <vector>

namespace aigc::dist {

// Whether this process was started by a launcher (mpirun sets OMPI_COMM_WORLD_SIZE, PMI-based
// launchers PMI_SIZE): a plain `aigcbench run` never initialises MPI.
bool launched_by_mpirun();

// MPI_Init on construction when launched by mpirun (a plain run stays a world of one without
// MPI), MPI_Finalize at destruction. One per process.
class MpiSession {
 public:
  MpiSession();
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

 private:
  bool active_ = false;
};

// The world: rank 0 and size 1 where MPI is not initialised.
int world_rank();
int world_size();
bool is_root();  // rank 0: the one that prints and writes

// Throws std::runtime_error naming `what` and MPI's message when rc is not MPI_SUCCESS (the
// world's errors return: MpiSession sets MPI_ERRORS_RETURN).
void check_mpi(int rc, const char* what);

void barrier();
// A barrier that sleeps while it waits (MPI's own spins a core): for ranks that wait while rank 0
// works alone (the probe, a single-rank measurement), which a spinning rank would slow on a
// machine with as many cores as ranks. Every rank of the world calls it (it matches no
// barrier() call).
void idle_barrier();
double max_over_ranks(double value);

// The timed loop every rank runs together, OSU-style: a barrier, a burst of `step` back to back,
// each rank's mean per step, the slowest rank's as the repetition's time. One burst warms up;
// then the burst grows until it lasts min_time_s, every rank taking the same decision from the
// same agreed time (so no rank waits in a collective the others skipped). `counter` (optional):
// a running total on each rank (its seconds in communication, say), reported per step the same
// way, the largest rank's.
struct BurstTimes {
  std::vector<double> times_s, counter_per_step;  // one per repetition
};
BurstTimes time_bursts(const std::function<void()>& step, int repetitions, double min_time_s,
                       const std::function<double()>& counter = {});

// Ends every rank of the world with `status` (MPI_Abort): for a failure on one rank that the
// others, waiting in a collective, would never hear of.
[[noreturn]] void abort_world(int status);

}  // namespace aigc::dist
