#pragma once
// The collectives' rows: measured on every rank of an mpirun world (distributed/), then, on
// rank 0, held against the distributed model of shared/design/timing-models.md section 5:
// each operation's own Hockney fit over its sizes, and its textbook algorithm's cost from the
// point-to-point alpha and beta.
#include <ostream>
#include <string>
#include <vector>

#include "measure/runner.hpp"
#include "driver/results_schema.hpp"
#include "timing/models.hpp"

namespace aigc {

// Every shape on every rank (all ranks call it with the same shapes); each row's status says
// why it was skipped or failed. Progress lines go to `out` (rank 0's; pass a null stream on
// the others).
std::vector<ResultRow> measure_collectives(const Workload& workload,
                                           const std::vector<Shape>& shapes,
                                           const TimingPolicy& timing, std::ostream& out);

// Fills the distributed model's columns (a pure function of the rows): on the collectives rows
// alpha_s, beta_s_per_byte, t_comm_fit_s per operation and t_comm_model_s from the ping-pong
// fit; on the tensor-parallel decoder's rows t_comm_model_s (their collectives at those costs),
// t_wall_model_s = t_one_rank_s / P + t_comm_model_s, and t_comm_fit_s from the run's own
// allreduce and allgather fits.
void apply_collective_models(std::vector<ResultRow>& rows);

// The collectives of one instance of a tensor-parallel decoder shape: `steps` forwards, each
// with the traffic of timing::TensorParallelTraffic (a prefill: one step of the prompt's rows
// and its last position's logits; a decode run: gen steps of the batch's rows).
struct TensorParallelSteps {
  std::int64_t steps = 1;
  timing::TensorParallelTraffic step;
};
TensorParallelSteps tensor_parallel_steps(const std::string& decoder_shape);

// Per operation: the fitted alpha and beta, and how far the fit and the algorithm's cost are
// from the measurement across its sizes.
void print_collectives_summary(const std::vector<ResultRow>& rows, std::ostream& out);

}  // namespace aigc
