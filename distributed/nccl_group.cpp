#include "distributed/nccl_group.hpp"

#include <cuda_runtime_api.h>
#include <mpi.h>
#include <nccl.h>

#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/errors.hpp"
#include "distributed/communicator.hpp"
#include "kernels/cuda/check.hpp"
#include "kernels/cuda/gpu_backend.hpp"

namespace aigc::dist {
namespace {

void check(ncclResult_t rc, const char* what) {
  if (rc == ncclSuccess) return;
  throw std::runtime_error(fmt::format("{} failed: {} ({})", what, ncclGetErrorString(rc),
                                       ncclGetLastError(nullptr)));
}

// This process's index among the ranks on its node (Open MPI says; else its world rank).
int local_rank() {
  if (const char* v = std::getenv("OMPI_COMM_WORLD_LOCAL_RANK")) return std::atoi(v);
  return world_rank();
}

class NcclTensorGroup final : public TensorGroup {
 public:
  NcclTensorGroup(Backend& backend, cuda::GpuBackend& gpu) : backend_(backend) {
    ranks_ = world_size();
    rank_ = world_rank();
    // NCCL's id from rank 0 to all, as bytes over MPI.
    ncclUniqueId id;
    if (rank_ == 0) check(ncclGetUniqueId(&id), "ncclGetUniqueId");
    MPI_Bcast(&id, sizeof(id), MPI_BYTE, 0, MPI_COMM_WORLD);
    check(ncclCommInitRank(&comm_, ranks_, id, rank_), "ncclCommInitRank");
    stream_ = gpu.stream();
  }
  ~NcclTensorGroup() override { ncclCommDestroy(comm_); }
  NcclTensorGroup(const NcclTensorGroup&) = delete;
  NcclTensorGroup& operator=(const NcclTensorGroup&) = delete;

  int rank() const override { return rank_; }
  int ranks() const override { return ranks_; }
  bool on_device() const override { return true; }

  void allreduce_sum(Buffer& x, std::size_t count) override {
    check_allreduce_buffer(x, count);
    check(ncclAllReduce(x.data(), x.data(), count, ncclFloat, ncclSum, comm_, stream_),
          "ncclAllReduce");
  }

  // NCCL has no allgather of unequal parts: one broadcast per rank, grouped (each rank's part
  // lands in its block), then a batch's rows are put back together on the device.
  void allgather_columns(const Buffer& part, std::int64_t rows,
                         std::span<const std::int64_t> widths, Buffer& full) override {
    const std::int64_t total = check_allgather_buffers(part, rows, widths, rank_, ranks_, full);
    Buffer* blocks = &full;
    if (rows > 1) {
      if (staging_.bytes() < std::size_t(rows * total) * sizeof(float))
        staging_ = backend_.allocate(std::size_t(rows * total) * sizeof(float));
      blocks = &staging_;
    }
    check(ncclGroupStart(), "ncclGroupStart");
    for (std::int64_t at = 0, r = 0; r < ranks_; ++r) {
      const std::int64_t n = rows * widths[static_cast<std::size_t>(r)];
      check(ncclBroadcast(part.data(), blocks->as<float>() + at, static_cast<std::size_t>(n),
                          ncclFloat, static_cast<int>(r), comm_, stream_),
            "ncclBroadcast");
      at += n;
    }
    check(ncclGroupEnd(), "ncclGroupEnd");
    if (rows == 1) return;
    for (std::int64_t at = 0, column = 0, r = 0; r < ranks_; ++r) {
      const std::int64_t w = widths[static_cast<std::size_t>(r)];
      for (std::int64_t b = 0; b < rows; ++b) {
        backend_.moves().copy(staging_, static_cast<std::size_t>(at + b * w), full,
                      static_cast<std::size_t>(b * total + column), static_cast<std::size_t>(w));
      }
      at += rows * w;
      column += w;
    }
  }

  // NCCL's work is queued on the stream with the kernels around it: the host cannot time it
  // apart, so GPU rows leave t_comm_s empty rather than report the enqueue time.
  double communication_s() const override { return 0; }
  bool times_communication() const override { return false; }

 private:
  Backend& backend_;
  int rank_ = 0, ranks_ = 1;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  Buffer staging_;
};

}  // namespace

std::unique_ptr<TensorGroup> make_nccl_group(Backend& backend) {
  auto* gpu = dynamic_cast<cuda::GpuBackend*>(&backend);
  if (gpu == nullptr) {
    throw std::invalid_argument(backend.descriptor().name + " is not a GPU backend");
  }
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess) devices = 0;
  const int ranks = world_size();
  // Every rank decides alike: the fewest devices any rank sees.
  const int fewest = static_cast<int>(-max_over_ranks(-static_cast<double>(devices)));
  if (fewest < ranks) {
    throw UnsupportedOp(fmt::format("{} with tp={} needs one GPU per rank, and this machine has "
                                    "{}",
                                    backend.descriptor().name, ranks, fewest));
  }
  // One device per rank on the node, bound before the backend makes its stream.
  AIGC_CUDA_CHECK(cudaSetDevice(local_rank() % devices));
  return std::make_unique<NcclTensorGroup>(backend, *gpu);
}

}  // namespace aigc::dist
