#pragma once
// The results table's file forms, generated from the one column table (results_schema):
// CSV (with each repetition's time beside it, <name>.repetitions.csv) and JSON (one object per
// row, the repetition times inside it). Missing values are empty cells / null, never 0.
#include <string>
#include <vector>

#include "driver/results_schema.hpp"

namespace aigc {

enum class ResultsFormat { csv, json };

// Column names in order; the first is schema_version.
const std::vector<std::string>& csv_columns();
// One cell per column, CSV-quoted where needed.
std::vector<std::string> csv_cells(const ResultRow& row);
std::string to_csv(const std::vector<ResultRow>& rows);
// {"schema_version": N, "columns": [...], "rows": [{column: value, ...,
//  "repetition_times_s": [...]}, ...]}
std::string to_json(const std::vector<ResultRow>& rows);

// The raw repetitions beside a CSV: one row per timed repetition, keyed like the results
// (run_id, workload, phase, shape, backend, dtype, threads), for comparisons that test the
// difference between two runs (Mann-Whitney U) rather than compare medians.
std::string repetitions_path(const std::string& results_path);
std::string repetitions_to_csv(const std::vector<ResultRow>& rows);
// The lines (no header) of the repetitions file beside `results_path` that belong to the runs
// its results file holds now; empty where either file is missing or of another schema. A run
// writes them after its own, so that the results it replaces stay paired with their times if
// the results are not replaced after all (see write_results): the pair on disk is always the
// old one or the new one as a reader keyed by run id sees it.
std::string carried_repetitions(const std::string& results_path);

// Splits one CSV line (RFC 4180 quoting) into cells; used to read results back.
std::vector<std::string> split_csv_line(const std::string& line);

}  // namespace aigc
