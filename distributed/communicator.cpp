#include "distributed/communicator.hpp"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

namespace aigc::dist {
namespace {

bool initialised() {
  int init = 0, finalized = 0;
  MPI_Initialized(&init);
  MPI_Finalized(&finalized);
  return init != 0 && finalized == 0;
}

}  // namespace

void check_mpi(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(rc, text, &length);
  throw std::runtime_error(std::string(what) + " failed: " + std::string(text, length));
}

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

void idle_barrier() {
  if (!initialised()) return;
  MPI_Request request;
  MPI_Ibarrier(MPI_COMM_WORLD, &request);
  for (int done = 0;;) {
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (done != 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

BurstTimes time_bursts(const std::function<void()>& step, int repetitions, double min_time_s,
                       const std::function<double()>& counter) {
  using Clock = std::chrono::steady_clock;
  // The slowest rank's time per step of a burst, and its counter's.
  auto burst = [&](long long iterations) {
    barrier();
    const double before = counter ? counter() : 0.0;
    const auto start = Clock::now();
    for (long long i = 0; i < iterations; ++i) step();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    const double counted = counter ? counter() - before : 0.0;
    const auto n = static_cast<double>(iterations);
    return std::pair{max_over_ranks(seconds) / n, max_over_ranks(counted) / n};
  };
  burst(1);  // warm-up
  long long iterations = 1;
  for (;;) {
    const double per_step = burst(iterations).first;
    const double total = per_step * static_cast<double>(iterations);
    if (total >= min_time_s || iterations >= (1LL << 30)) break;
    const double wanted = total > 0 ? 1.2 * min_time_s / per_step : 10.0 * double(iterations);
    iterations = std::max(2 * iterations,
                          std::min(10 * iterations, static_cast<long long>(std::ceil(wanted))));
  }
  BurstTimes out;
  for (int r = 0; r < repetitions; ++r) {
    const auto [seconds, counted] = burst(iterations);
    out.times_s.push_back(seconds);
    out.counter_per_step.push_back(counted);
  }
  return out;
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
