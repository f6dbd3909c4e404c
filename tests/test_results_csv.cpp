// The CSV writer against shared/design/csv-schema.md.
#include <catch2/catch.hpp>

#include <set>

#include "driver/results_csv.hpp"

using namespace aigc;

TEST_CASE("the results CSV has the schema's columns, schema_version first") {
  const auto& cols = csv_columns();
  REQUIRE(cols.front() == "schema_version");
  const std::set<std::string> unique(cols.begin(), cols.end());
  CHECK(unique.size() == cols.size());
  for (const char* c : {"run_id",
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
                        "status"}) {
    CHECK(unique.count(c) == 1);
  }
  CHECK(cols.size() == 49);
}

TEST_CASE("a row has one cell per column, quotes shapes, and leaves missing values empty") {
  ResultRow r;
  r.workload = "matmul";
  r.shape = "M=1,N=2,K=3";
  r.cpu_model = "Some \"quoted\" CPU, 2 GHz";
  r.backend = "simd";
  r.time_median_s = 0.00125;
  const std::string csv = to_csv({r});
  const auto newline = csv.find('\n');
  const std::string line = csv.substr(newline + 1, csv.size() - newline - 2);
  const auto cells = split_csv_line(line);
  REQUIRE(cells.size() == csv_columns().size());
  auto cell = [&](const std::string& name) {
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (csv_columns()[i] == name) return cells[i];
    }
    FAIL("no column " << name);
    return std::string();
  };
  CHECK(cell("schema_version") == std::to_string(kCsvSchemaVersion));
  CHECK(cell("shape") == "M=1,N=2,K=3");
  CHECK(cell("cpu_model") == "Some \"quoted\" CPU, 2 GHz");
  CHECK(cell("time_median_s") == "0.00125");
  CHECK(cell("time_min_s").empty());  // missing, never 0
  CHECK(cell("speedup_vs_scalar").empty());
  CHECK(cell("status") == "ok");
}
