#pragma once
// What measuring one configuration yields, before the timing models are applied: the row's
// identity, the work's counts, the per-repetition times and energy, the verification's verdict.
#include <optional>
#include <string>
#include <vector>

#include "core/backend.hpp"
#include "workloads/workload.hpp"

namespace aigc {

// One measured configuration, before the models are applied.
struct Measurement {
  // What was measured, as the plan resolved it: the timing models ask the workload about the
  // parsed shape (phase, batch, the f32 twin), never a name or a text.
  const Workload* workload = nullptr;
  Shape shape;
  const BackendDescriptor* backend = nullptr;
  std::string simd_target;
  std::string dtype = "f32";
  int threads = 1;
  WorkCounts counts;
  std::vector<double> times_s;
  // Joules per operation of each repetition, from the energy counter named by energy_source
  // (empty where the hardware's counter cannot be read).
  std::vector<double> energy_j;
  std::string energy_source;
  std::optional<double> max_rel_error, tolerance;
  std::optional<double> upload_s, download_s;  // GPU backends only
  std::string status = "ok";
  // A case split over MPI ranks (the decoder's tp=P): their number, the slowest rank's seconds
  // in communication per operation of each repetition, and the same shape's median time in one
  // process on rank 0 alone (same backend and threads): the distributed model's T_compute(1).
  int ranks = 1;
  std::vector<double> comm_s;
  std::optional<double> one_rank_s;
};

}  // namespace aigc
