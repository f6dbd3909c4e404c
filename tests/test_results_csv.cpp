// The CSV writer against shared/design/csv-schema.md.
#include <catch2/catch.hpp>

#include <limits>
#include <set>

#include <nlohmann/json.hpp>

#include "driver/results_csv.hpp"

using namespace aigc;

TEST_CASE("the results CSV's header is the schema table's columns, schema_version first") {
  const auto& cols = csv_columns();
  REQUIRE(cols.size() == result_columns().size());
  for (std::size_t i = 0; i < cols.size(); ++i) CHECK(cols[i] == result_columns()[i].name);
  REQUIRE(cols.front() == "schema_version");
  const std::set<std::string> unique(cols.begin(), cols.end());
  CHECK(unique.size() == cols.size());
  // What shared/design/csv-schema.md asks every row to carry.
  for (const char* c : {"run_id",
                        "machine",
                        "cpu_model",
                        "compiler",
                        "build_type",
                        "workload",
                        "phase",
                        "shape",
                        "backend",
                        "dtype",
                        "threads",
                        "time_median_s",
                        "time_min_s",
                        "time_max_s",
                        "time_cv",
                        "flops",
                        "bytes",
                        "arithmetic_intensity",
                        "baseline_source",
                        "t_serial_model_s",
                        "predicted_speedup",
                        "t_roofline_s",
                        "max_rel_error",
                        "status"}) {
    CHECK(unique.count(c) == 1);
  }
}

TEST_CASE("every column of the schema table has a type, a meaning and when it is filled") {
  for (const ResultColumn& c : result_columns()) {
    INFO(c.name);
    CHECK(std::string(c.meaning).size() > 3);
    CHECK(std::string(c.filled).size() > 3);
    // Times are in seconds and their names say so.
    if (std::string(c.unit) == "s") CHECK(std::string(c.name).ends_with("_s"));
  }
  CHECK_THAT(schema_as_text(), Catch::Contains("machine") && Catch::Contains("FLOP/s"));
}

TEST_CASE("the JSON form has every column per row, null for missing, and the repetitions") {
  ResultRow r;
  r.workload = "matmul";
  r.shape = "M=1,N=2,K=3";
  r.machine = "amd-epyc-zen5-2c-avx3";
  r.time_median_s = 0.5;
  r.max_rel_error = std::numeric_limits<double>::quiet_NaN();
  r.repetition_times_s = {0.4, 0.5, 0.6};
  const auto j = nlohmann::json::parse(to_json({r}));
  CHECK(j["schema_version"] == kResultsSchemaVersion);
  REQUIRE(j["rows"].size() == 1);
  const auto& row = j["rows"][0];
  for (const ResultColumn& c : result_columns()) CHECK(row.contains(c.name));
  CHECK(row["machine"] == "amd-epyc-zen5-2c-avx3");
  CHECK(row["time_median_s"] == 0.5);
  CHECK(row["time_min_s"].is_null());     // missing, never 0
  CHECK(row["max_rel_error"].is_null());  // NaN has no JSON form
  CHECK(row["repetition_times_s"].size() == 3);
  CHECK(row["threads"] == 1);
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
