#pragma once
#include <ostream>
#include <vector>

#include "driver/results_csv.hpp"

namespace aigc {

// The short table after a run: backend, time, GFLOP/s, speedup vs scalar, parallel
// efficiency and % of roofline per row; then the fitted Amdahl serial fraction for
// every thread sweep.
void print_summary_table(const std::vector<ResultRow>& rows, std::ostream& out);

}  // namespace aigc
