#pragma once
#include <ostream>
#include <vector>

#include "driver/results_csv.hpp"

namespace aigc {

// The short table after a run: backend, time, GFLOP/s, speedup vs scalar, parallel
// efficiency and % of roofline per row; then the fitted Amdahl serial fraction for
// every thread sweep.
// A row faster than its ceilings is marked "!" in the % of roofline column.
void print_summary_table(const std::vector<ResultRow>& rows, std::ostream& out);

// Rows faster than their roofline (above_roofline): one warning line, then one line per
// row; nothing when there are none.
void print_roofline_warnings(const std::vector<ResultRow>& rows, std::ostream& err);

}  // namespace aigc
