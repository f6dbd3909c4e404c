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

bool all_ranks(bool value) {
  if (!initialised()) return value;
  int in = value ? 1 : 0, out = 0;
  MPI_Allreduce(&in, &out, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  return out != 0;
}

long long from_root(long long value) {
  if (initialised()) MPI_Bcast(&value, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
  return value;
}

std::vector<std::string> gather_to_root(const std::string& text) {
  if (!initialised()) return {text};
  const int size = world_size(), rank = world_rank();
  int length = static_cast<int>(text.size());
  std::vector<int> lengths(rank == 0 ? size : 0), offsets(lengths.size());
  MPI_Gather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
  std::string all;
  if (rank == 0) {
    int total = 0;
    for (int r = 0; r < size; ++r) {
      offsets[r] = total;
      total += lengths[r];
    }
    all.resize(static_cast<std::size_t>(total));
  }
  MPI_Gatherv(text.data(), length, MPI_CHAR, all.data(), lengths.data(), offsets.data(), MPI_CHAR,
              0, MPI_COMM_WORLD);
  std::vector<std::string> texts;
  for (int r = 0; r < static_cast<int>(lengths.size()); ++r) {
    texts.push_back(
        all.substr(static_cast<std::size_t>(offsets[r]), static_cast<std::size_t>(lengths[r])));
  }
  return texts;
}

void abort_world(int status) {
  if (initialised()) MPI_Abort(MPI_COMM_WORLD, status);
  std::exit(status);
}

}  // namespace aigc::dist
