#pragma once
// The results table of shared/design/csv-schema.md, written once: one row per (machine,
// workload, shape, phase, backend, dtype, threads) measurement, and one table of columns
// (name, type, unit, meaning, how it is filled, and how to read it from a row). The CSV
// header and cells, the JSON form and `aigcbench schema` are all generated from that table.
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/stats.hpp"

namespace aigc {

// 2: upload_s and download_s added (GPU transfers outside the timed region).
// 3: machine added (the hardware id that names results; the host name does not).
// 4: the weight formats' columns (format_speedup, format_speedup_pred, perplexity,
//    perplexity_f32, greedy_agreement, error_tolerance).
// 5: batch, ms_per_token and knee_batch added (batched decoding).
// 6: above_roofline added (a row faster than its ceilings allow: a ceiling is wrong).
// 7: energy_j, avg_power_w, joules_per_token, flop_per_joule and energy_source added (RAPL,
//    NVML; empty where the machine exposes neither).
// 8: ranks, t_comm_s, alpha_s, beta_s_per_byte, t_comm_fit_s and t_comm_model_s added (MPI
//    ranks, the collectives and the distributed model).
// 9: t_one_rank_s, t_wall_model_s and distributed_efficiency added (the tensor-parallel
//    decoder's rows, tp=P).
inline constexpr int kResultsSchemaVersion = 9;
inline constexpr int kCsvSchemaVersion = kResultsSchemaVersion;

struct ResultRow {
  std::string run_id, timestamp;
  std::string machine, host, cpu_model;
  int cores = 0;
  std::string simd_target, gpu_name, compiler, build_type;
  std::string workload, phase, shape, backend, dtype = "f32";
  int threads = 1;
  std::optional<int> repetitions;
  std::optional<double> time_median_s, time_min_s, time_max_s, time_cv;
  std::optional<double> flops, bytes, arithmetic_intensity;
  std::optional<double> achieved_flops, achieved_bytes_per_s, tokens_per_s;
  std::optional<long long> batch;
  std::optional<double> ms_per_token, knee_batch;
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
  std::optional<double> format_speedup, format_speedup_pred;
  std::optional<double> perplexity, perplexity_f32, greedy_agreement;
  std::optional<double> energy_j, avg_power_w, joules_per_token, flop_per_joule;
  std::string energy_source;
  int ranks = 1;
  std::optional<double> t_comm_s, alpha_s, beta_s_per_byte, t_comm_fit_s, t_comm_model_s;
  std::optional<double> t_one_rank_s, t_wall_model_s, distributed_efficiency;
  std::optional<double> max_rel_error, error_tolerance;
  std::string status = "ok";
  // Not a column: each repetition's time, written beside the CSV and inside the JSON.
  std::vector<double> repetition_times_s;
};

// Whether a row ran faster than its roofline (roofline_fraction > 1): a correct ceiling never
// allows it, so one of the probe's figures for that row is wrong (the above_roofline column).
inline bool above_roofline(const ResultRow& r) {
  return r.roofline_fraction && *r.roofline_fraction > 1.0;
}

// The time columns of a row from its repetitions' statistics, and the rates its counts
// (flops, bytes) give at the median.
void set_time_columns(ResultRow& r, const SampleStats& st);

enum class ColumnType { integer, number, text };
// An empty cell (monostate) is a missing value, never 0.
using Cell = std::variant<std::monostate, long long, double, std::string>;

struct ResultColumn {
  const char* name;
  ColumnType type;
  const char* unit;     // "s", "FLOP", "FLOP/s", "B/s", "tokens/s", "" (none)
  const char* meaning;  // what the value is
  const char* filled;   // when it is filled, and from what
  Cell (*get)(const ResultRow&);
};

// Every column in order; the first is schema_version.
const std::vector<ResultColumn>& result_columns();
const char* column_type_name(ColumnType type);

// `aigcbench schema`: the table as aligned text, or as JSON (what the Python scripts read).
std::string schema_as_text();
std::string schema_as_json();

}  // namespace aigc
