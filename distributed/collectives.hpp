#pragma once
// The timed loop of the collectives workload (workloads/collectives.hpp) on MPI's world: every
// rank runs the same operation, verified once before timing, then timed the way the OSU
// micro-benchmarks do (a barrier, a burst of operations back to back, each rank's mean), with
// the slowest rank's mean as the repetition's time. The iteration count grows until a burst
// lasts min_time_s; every rank takes the same decisions from the same agreed numbers, so no
// rank waits in a collective the others skipped.
#include <string>
#include <vector>

#include "workloads/collectives.hpp"

namespace aigc::dist {

struct CollectiveMeasurement {
  std::vector<double> times_s;  // one per repetition: the slowest rank's time of one operation
  double max_rel_error = 0;     // the worst rank's verification error (NaN: a wrong value)
  double tolerance = 0;
  std::string status = "ok";  // or "skipped: ..." / "error: ..."
};

// Collective on every rank of the world; call it on all of them with the same arguments.
CollectiveMeasurement measure_collective(const CollectiveShape& shape, int repetitions,
                                         double min_time_s);

}  // namespace aigc::dist
