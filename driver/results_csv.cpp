#include "driver/results_csv.hpp"

#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace aigc {
namespace {

std::string quote(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + "\"";
}

// 9 significant digits keep a float64 time to the nanosecond at a second.
std::string num(const std::optional<double>& v) {
  if (!v || !std::isfinite(*v)) return v && std::isinf(*v) ? "inf" : "";
  return fmt::format("{:.9g}", *v);
}
template <typename Int>
std::string integer(const std::optional<Int>& v) {
  return v ? std::to_string(*v) : "";
}

}  // namespace

const std::vector<std::string>& csv_columns() {
  static const std::vector<std::string> columns{"schema_version",
                                                "run_id",
                                                "timestamp",
                                                "host",
                                                "cpu_model",
                                                "cores",
                                                "simd_target",
                                                "gpu_name",
                                                "compiler",
                                                "build_type",
                                                "workload",
                                                "phase",
                                                "shape",
                                                "backend",
                                                "dtype",
                                                "threads",
                                                "repetitions",
                                                "time_median_s",
                                                "time_min_s",
                                                "time_max_s",
                                                "time_cv",
                                                "flops",
                                                "bytes",
                                                "arithmetic_intensity",
                                                "achieved_flops",
                                                "achieved_bytes_per_s",
                                                "tokens_per_s",
                                                "baseline_time_s",
                                                "baseline_source",
                                                "speedup_vs_scalar",
                                                "t_single_s",
                                                "n_units",
                                                "t_serial_model_s",
                                                "serial_model_error",
                                                "t1_s",
                                                "parallel_speedup",
                                                "parallel_efficiency",
                                                "karp_flatt",
                                                "peak_flops",
                                                "peak_bytes_per_s",
                                                "t_roofline_s",
                                                "roofline_fraction",
                                                "bound",
                                                "predicted_speedup",
                                                "captured_speedup_fraction",
                                                "upload_s",
                                                "download_s",
                                                "max_rel_error",
                                                "status"};
  return columns;
}

std::vector<std::string> csv_cells(const ResultRow& r) {
  std::vector<std::string> c{std::to_string(kCsvSchemaVersion),
                             r.run_id,
                             r.timestamp,
                             r.host,
                             r.cpu_model,
                             std::to_string(r.cores),
                             r.simd_target,
                             r.gpu_name,
                             r.compiler,
                             r.build_type,
                             r.workload,
                             r.phase,
                             r.shape,
                             r.backend,
                             r.dtype,
                             std::to_string(r.threads),
                             integer(r.repetitions),
                             num(r.time_median_s),
                             num(r.time_min_s),
                             num(r.time_max_s),
                             num(r.time_cv),
                             num(r.flops),
                             num(r.bytes),
                             num(r.arithmetic_intensity),
                             num(r.achieved_flops),
                             num(r.achieved_bytes_per_s),
                             num(r.tokens_per_s),
                             num(r.baseline_time_s),
                             r.baseline_source,
                             num(r.speedup_vs_scalar),
                             num(r.t_single_s),
                             integer(r.n_units),
                             num(r.t_serial_model_s),
                             num(r.serial_model_error),
                             num(r.t1_s),
                             num(r.parallel_speedup),
                             num(r.parallel_efficiency),
                             num(r.karp_flatt),
                             num(r.peak_flops),
                             num(r.peak_bytes_per_s),
                             num(r.t_roofline_s),
                             num(r.roofline_fraction),
                             r.bound,
                             num(r.predicted_speedup),
                             num(r.captured_speedup_fraction),
                             num(r.upload_s),
                             num(r.download_s),
                             num(r.max_rel_error),
                             r.status};
  for (auto& cell : c) cell = quote(cell);
  return c;
}

std::string to_csv(const std::vector<ResultRow>& rows) {
  std::string out = fmt::format("{}\n", fmt::join(csv_columns(), ","));
  for (const ResultRow& r : rows) out += fmt::format("{}\n", fmt::join(csv_cells(r), ","));
  return out;
}

std::string repetitions_path(const std::string& results_path) {
  const std::string ext = ".csv";
  if (results_path.size() > ext.size() &&
      results_path.compare(results_path.size() - ext.size(), ext.size(), ext) == 0) {
    return results_path.substr(0, results_path.size() - ext.size()) + ".repetitions.csv";
  }
  return results_path + ".repetitions.csv";
}

std::string repetitions_to_csv(const std::vector<RepetitionRow>& rows) {
  std::string out =
      "schema_version,run_id,workload,phase,shape,backend,dtype,threads,repetition,time_s\n";
  for (const RepetitionRow& r : rows) {
    for (std::size_t i = 0; i < r.times_s.size(); ++i) {
      out += fmt::format("{},{},{},{},{},{},{},{},{},{:.9g}\n", kCsvSchemaVersion, r.run_id,
                         r.workload, r.phase, quote(r.shape), r.backend, r.dtype, r.threads,
                         i + 1, r.times_s[i]);
    }
  }
  return out;
}

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> cells(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char ch = line[i];
    if (quoted) {
      if (ch == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cells.back() += '"';
        ++i;
      } else if (ch == '"') {
        quoted = false;
      } else {
        cells.back() += ch;
      }
    } else if (ch == '"') {
      quoted = true;
    } else if (ch == ',') {
      cells.emplace_back();
    } else {
      cells.back() += ch;
    }
  }
  return cells;
}

}  // namespace aigc
