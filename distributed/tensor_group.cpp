#include "distributed/tensor_group.hpp"

#include <mpi.h>

#include <chrono>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "core/errors.hpp"
#include "distributed/communicator.hpp"
#include "distributed/nccl_group.hpp"

namespace aigc::dist {
namespace {

int as_count(std::int64_t n, const char* what) {
  if (n < 0 || n > std::int64_t{1 << 30} * 2 - 1)
    throw std::length_error(fmt::format("{}: {} values do not fit MPI's int count", what, n));
  return static_cast<int>(n);
}

class MpiTensorGroup final : public TensorGroup {
 public:
  MpiTensorGroup() {
    check_mpi(MPI_Comm_dup(MPI_COMM_WORLD, &comm_), "MPI_Comm_dup");
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &ranks_);
  }
  ~MpiTensorGroup() override { MPI_Comm_free(&comm_); }
  MpiTensorGroup(const MpiTensorGroup&) = delete;
  MpiTensorGroup& operator=(const MpiTensorGroup&) = delete;

  int rank() const override { return rank_; }
  int ranks() const override { return ranks_; }

  void allreduce_sum(Buffer& x, std::size_t count) override {
    check_allreduce_buffer(x, count);
    const Timer timer(seconds_);
    check_mpi(MPI_Allreduce(MPI_IN_PLACE, x.data(), as_count(std::int64_t(count), "allreduce"),
                        MPI_FLOAT, MPI_SUM, comm_),
          "MPI_Allreduce");
  }

  void allgather_columns(const Buffer& part, std::int64_t rows,
                         std::span<const std::int64_t> widths, Buffer& full) override {
    const std::int64_t total = check_allgather_buffers(part, rows, widths, rank_, ranks_, full);
    const Timer timer(seconds_);
    // Each rank's part lands as one block, rank after rank: [rank][row][column] ...
    std::vector<int> counts, displacements;
    for (std::int64_t at = 0; const std::int64_t w : widths) {
      counts.push_back(as_count(rows * w, "allgather"));
      displacements.push_back(as_count(at, "allgather"));
      at += rows * w;
    }
    const bool one_row = rows == 1;  // blocks already in [row][column] order
    if (!one_row) staging_.resize(static_cast<std::size_t>(rows * total));
    float* blocks = one_row ? full.as<float>() : staging_.data();
    check_mpi(MPI_Allgatherv(part.data(), counts[static_cast<std::size_t>(rank_)], MPI_FLOAT, blocks,
                         counts.data(), displacements.data(), MPI_FLOAT, comm_),
          "MPI_Allgatherv");
    if (one_row) return;
    // ... and a batch's rows are put back together: row b holds every rank's columns of b.
    float* out = full.as<float>();
    for (std::int64_t column = 0, r = 0; r < ranks_; ++r) {
      const std::int64_t w = widths[static_cast<std::size_t>(r)];
      const float* block = blocks + displacements[static_cast<std::size_t>(r)];
      for (std::int64_t b = 0; b < rows; ++b) {
        std::copy(block + b * w, block + (b + 1) * w, out + b * total + column);
      }
      column += w;
    }
  }

  double communication_s() const override { return seconds_; }

 private:
  // Adds the time until it goes out of scope to `total`.
  class Timer {
   public:
    explicit Timer(double& total) : total_(total), start_(std::chrono::steady_clock::now()) {}
    ~Timer() {
      total_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    }
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;

   private:
    double& total_;
    std::chrono::steady_clock::time_point start_;
  };

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, ranks_ = 1;
  double seconds_ = 0;
  std::vector<float> staging_;
};

}  // namespace

std::unique_ptr<TensorGroup> make_world_tensor_group(int ranks, Backend& backend) {
  if (ranks != world_size()) {
    throw InvalidArgument(
        "tp", fmt::format("tp={} needs a run of {} ranks, and this one has {} (start it with "
                          "mpirun -np {})",
                          ranks, ranks, world_size(), ranks));
  }
  if (backend.compute_class() == ComputeClass::gpu) return make_nccl_group(backend);
  return std::make_unique<MpiTensorGroup>();
}

}  // namespace aigc::dist
