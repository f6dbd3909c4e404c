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

// Whether a row ran faster than its roofline (roofline_fraction > 1): a correct ceiling never
// allows it, so one of the probe's figures for that row is wrong.
bool above_roofline(const ResultRow& r);
// One warning line, then one line per such row; nothing when there are none.
void print_roofline_warnings(const std::vector<ResultRow>& rows, std::ostream& err);

}  // namespace aigc
