#include "distributed/collectives.hpp"

#include <mpi.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "distributed/communicator.hpp"

namespace aigc::dist {
namespace {

using timing::Collective;

// One operation's buffers and its one step, the same on every call of the timed loop.
class CollectiveRun {
 public:
  CollectiveRun(const CollectiveShape& s, int rank, int ranks)
      : s_(s), rank_(rank), ranks_(ranks), count_(s.bytes / 4) {
    const std::int64_t sent = s.op == Collective::allgather ? count_ / ranks : count_;
    send_.resize(static_cast<std::size_t>(sent));
    recv_.resize(static_cast<std::size_t>(count_));
    for (std::int64_t i = 0; i < sent; ++i) {
      // Broadcast sends rank 0's values; ping-pong's messages are rank 0's each way.
      const bool root_data = s.op == Collective::broadcast || s.op == Collective::pingpong;
      send_[i] = collective_input(root_data ? 0 : rank, i);
    }
  }

  void step() {
    const int n = static_cast<int>(count_);
    switch (s_.op) {
      case Collective::allreduce:
        check_mpi(MPI_Allreduce(send_.data(), recv_.data(), n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD),
              "MPI_Allreduce");
        break;
      case Collective::allgather:
        check_mpi(MPI_Allgather(send_.data(), n / ranks_, MPI_FLOAT, recv_.data(), n / ranks_,
                            MPI_FLOAT, MPI_COMM_WORLD),
              "MPI_Allgather");
        break;
      case Collective::broadcast:
        // The root broadcasts its values from recv_ (filled from send_ at verification).
        check_mpi(MPI_Bcast(recv_.data(), n, MPI_FLOAT, 0, MPI_COMM_WORLD), "MPI_Bcast");
        break;
      case Collective::pingpong:
        if (rank_ == 0) {
          check_mpi(MPI_Send(send_.data(), n, MPI_FLOAT, 1, 0, MPI_COMM_WORLD), "MPI_Send");
          check_mpi(MPI_Recv(recv_.data(), n, MPI_FLOAT, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
                "MPI_Recv");
        } else if (rank_ == 1) {
          check_mpi(MPI_Recv(recv_.data(), n, MPI_FLOAT, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
                "MPI_Recv");
          check_mpi(MPI_Send(recv_.data(), n, MPI_FLOAT, 0, 0, MPI_COMM_WORLD), "MPI_Send");
        }
        break;
    }
  }

  // Poisons the output, runs one step and returns this rank's largest error against the
  // exact result (relative to the sum of magnitudes for an allreduce, exact elsewhere):
  // NaN where a value is wrong beyond that or unwritten.
  double verify() {
    std::fill(recv_.begin(), recv_.end(), std::numeric_limits<float>::quiet_NaN());
    if (s_.op == Collective::broadcast && rank_ == 0)
      std::copy(send_.begin(), send_.end(), recv_.begin());
    step();
    if (s_.op == Collective::pingpong && rank_ > 1) return 0;  // not part of the exchange
    double worst = 0;
    const std::int64_t block = count_ / ranks_;
    for (std::int64_t i = 0; i < count_; ++i) {
      double exact = 0, magnitude = 0;
      switch (s_.op) {
        case Collective::allreduce:
          for (int r = 0; r < ranks_; ++r) {
            const double v = collective_input(r, i);
            exact += v;
            magnitude += std::abs(v);
          }
          break;
        case Collective::allgather:
          exact = collective_input(static_cast<int>(i / block), i % block);
          magnitude = std::abs(exact);
          break;
        case Collective::broadcast:
        case Collective::pingpong:
          exact = collective_input(0, i);
          magnitude = std::abs(exact);
          break;
      }
      const double error = std::abs(recv_[i] - exact) / magnitude;
      if (!(error <= worst)) worst = error;  // NaN sticks
      if (std::isnan(worst)) return worst;
    }
    return worst;
  }

 private:
  CollectiveShape s_;
  int rank_, ranks_;
  std::int64_t count_;
  std::vector<float> send_, recv_;
};

}  // namespace

CollectiveMeasurement measure_collective(const CollectiveShape& shape, int repetitions,
                                         double min_time_s) {
  CollectiveMeasurement m;
  const int ranks = world_size(), rank = world_rank();
  m.tolerance = collective_tolerance(shape.op, ranks);
  if (ranks < 2) {
    m.status =
        "skipped: collectives need at least 2 ranks (start the run with mpirun -np 2 or more)";
    return m;
  }
  const std::int64_t count = shape.bytes / 4;
  if (shape.op == Collective::allgather && count % ranks != 0) {
    m.status = fmt::format("skipped: an allgather of {} fp32 values does not split over {} ranks",
                           count, ranks);
    return m;
  }
  CollectiveRun run(shape, rank, ranks);
  const double error = run.verify();
  m.max_rel_error =
      max_over_ranks(std::isnan(error) ? std::numeric_limits<double>::infinity() : error);
  if (!(m.max_rel_error <= m.tolerance)) {
    m.status = fmt::format("error: wrong result (max relative error {:.3g} > tolerance {:.3g})",
                           m.max_rel_error, m.tolerance);
    return m;
  }
  // One operation's time; a ping-pong iteration is a round trip, and its time is one way.
  const double per_iteration = shape.op == Collective::pingpong ? 2 : 1;
  for (const double t : time_bursts([&] { run.step(); }, repetitions, min_time_s).times_s)
    m.times_s.push_back(t / per_iteration);
  return m;
}

}  // namespace aigc::dist
