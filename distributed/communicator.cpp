#include "distributed/communicator.hpp"

#include <mpi.h>

#include <cstdlib>

namespace aigc::dist {
namespace {

bool initialised() {
  int init = 0, finalized = 0;
  MPI_Initialized(&init);
  MPI_Finalized(&finalized);
  return init != 0 && finalized == 0;
}

}  // namespace

bool launched_by_mpirun() {
  return std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr || std::getenv("PMI_SIZE") != nullptr;
}

MpiSession::MpiSession() {
  if (!launched_by_mpirun() || initialised()) return;
  MPI_Init(nullptr, nullptr);
  // An error in a collective returns to the caller (which says so) rather than killing the
  // world without a word.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  active_ = true;
}

MpiSession::~MpiSession() {
  if (active_ && initialised()) MPI_Finalize();
}

int world_rank() {
  if (!initialised()) return 0;
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

int world_size() {
  if (!initialised()) return 1;
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return size;
}

bool is_root() { return world_rank() == 0; }

void barrier() {
  if (initialised()) MPI_Barrier(MPI_COMM_WORLD);
}

double max_over_ranks(double value) {
  if (!initialised()) return value;
  double out = value;
  MPI_Allreduce(&value, &out, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return out;
}

void abort_world(int status) {
  if (initialised()) MPI_Abort(MPI_COMM_WORLD, status);
  std::exit(status);
}

}  // namespace aigc::dist
