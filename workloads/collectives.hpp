#pragma once
// The collectives workload: one MPI operation on a message of `bytes` over every rank of the
// run (mpirun -np P), fp32 data. Its shapes, counts and verification live here; the timed
// loop, which needs MPI, is distributed/collectives.cpp. A collective has no compute backend:
// its rows' backend column is the transport ("mpi").
#include <cstdint>

#include "timing/models.hpp"
#include "workloads/workload.hpp"

namespace aigc {

// n bytes is what each rank holds after the operation: the reduced vector (allreduce), the
// gathered one (allgather: bytes / P from each rank), the root's (broadcast), the message
// each way (ping-pong, between ranks 0 and 1; its time is one way, half the round trip).
struct CollectiveShape {
  timing::Collective op = timing::Collective::allreduce;
  std::int64_t bytes = 4;
};

inline constexpr std::int64_t kMaxCollectiveBytes = std::int64_t{1} << 30;  // 1 GiB

CollectiveShape parse_collective_shape(const std::string& text);
std::string format_collective_shape(const CollectiveShape& s);
const char* collective_name(timing::Collective op);
// "4 B", "64 KiB", "1.5 MiB": a message size as the tables print it.
std::string message_size(double bytes);

// Rank r's element i: a hash of (r, i) mapped to [-1, 1] without 0, so any rank can compute
// every other rank's input (the expected results) without storing or receiving it.
float collective_input(int rank, std::int64_t i);

// The order in which P fp32 values are added is the library's: the sum is within
// gamma_{P-1} = (P-1)u / (1 - (P-1)u) of the exact one, relative to the sum of magnitudes.
// Gathers, broadcasts and messages move values unchanged: 0.
double collective_tolerance(timing::Collective op, int ranks);

class CollectivesWorkload final : public Workload {
 public:
  std::string name() const override { return "collectives"; }
  bool in_default_run() const override { return false; }
  bool distributed() const override { return true; }
  std::vector<std::string> preset_shapes(Preset preset) const override;
  Shape parse(const std::string& text) const override;
  // FLOPs: the additions of an allreduce over 2 ranks ((P - 1) per element in all; the
  // counts do not know P, so they are the 2-rank ones); bytes: the message.
  WorkCounts counts(const Shape& shape) const override;
  std::vector<Op> ops(const Shape&) const override { return {}; }
  Shape unit_shape(const Shape& shape) const override { return shape; }
  std::unique_ptr<WorkloadCase> make_case(Backend& backend, const Shape& shape) const override;
};

}  // namespace aigc
