#pragma once
// The tidy results table of shared/design/csv-schema.md: one row per (workload, shape,
// phase, backend, dtype, threads) measurement. Missing values are empty cells, never 0.
#include <optional>
#include <string>
#include <vector>

namespace aigc {

// 2: upload_s and download_s added (GPU transfers outside the timed region).
inline constexpr int kCsvSchemaVersion = 2;

struct ResultRow {
  std::string run_id, timestamp;
  std::string host, cpu_model;
  int cores = 0;
  std::string simd_target, gpu_name, compiler, build_type;
  std::string workload, phase, shape, backend, dtype = "f32";
  int threads = 1;
  std::optional<int> repetitions;
  std::optional<double> time_median_s, time_min_s, time_max_s, time_cv;
  std::optional<double> flops, bytes, arithmetic_intensity;
  std::optional<double> achieved_flops, achieved_bytes_per_s, tokens_per_s;
  std::optional<double> baseline_time_s;
  std::string baseline_source;
  std::optional<double> speedup_vs_scalar;
  std::optional<double> t_single_s;
  std::optional<long long> n_units;
  std::optional<double> t_serial_model_s, serial_model_error;
  std::optional<double> t1_s, parallel_speedup, parallel_efficiency, karp_flatt;
  std::optional<double> peak_flops, peak_bytes_per_s, t_roofline_s, roofline_fraction;
  std::string bound;
  std::optional<double> predicted_speedup, captured_speedup_fraction;
  std::optional<double> upload_s, download_s;
  std::optional<double> max_rel_error;
  std::string status = "ok";
};

// Column names in order; the first is schema_version.
const std::vector<std::string>& csv_columns();
// One cell per column, CSV-quoted where needed.
std::vector<std::string> csv_cells(const ResultRow& row);
std::string to_csv(const std::vector<ResultRow>& rows);

// The raw repetitions beside the results: one row per timed repetition, keyed like the
// results (run_id, workload, phase, shape, backend, dtype, threads), for comparisons that
// test the difference between two runs (Mann-Whitney U) rather than compare medians.
// Written next to the results as <name>.repetitions.csv.
struct RepetitionRow {
  std::string run_id, workload, phase, shape, backend, dtype = "f32";
  int threads = 1;
  std::vector<double> times_s;
};
std::string repetitions_path(const std::string& results_path);
std::string repetitions_to_csv(const std::vector<RepetitionRow>& rows);

// Splits one CSV line (RFC 4180 quoting) into cells; used to read results back.
std::vector<std::string> split_csv_line(const std::string& line);

}  // namespace aigc
