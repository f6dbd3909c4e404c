#pragma once
// The ranks of a run started by mpirun (Open MPI): who this process is, and the few
// agreements the driver needs between ranks (the slowest rank's time, and from it the same
// iteration count and the same verdict on every rank). Everything distributed goes through MPI
// itself; this file only keeps MPI's C interface out of the rest of the code.
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

void barrier();
double max_over_ranks(double value);

// Ends every rank of the world with `status` (MPI_Abort): for a failure on one rank that the
// others, waiting in a collective, would never hear of.
[[noreturn]] void abort_world(int status);

}  // namespace aigc::dist
