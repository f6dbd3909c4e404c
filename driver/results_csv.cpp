#include "driver/results_csv.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

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
std::string csv_text(const Cell& cell) {
  if (const auto* d = std::get_if<double>(&cell)) {
    if (std::isfinite(*d)) return fmt::format("{:.9g}", *d);
    return std::isinf(*d) ? "inf" : "";
  }
  if (const auto* i = std::get_if<long long>(&cell)) return std::to_string(*i);
  if (const auto* s = std::get_if<std::string>(&cell)) return quote(*s);
  return "";
}

// JSON has no NaN or infinity: a non-finite number is null, like a missing one (an infinite
// error is in the status text as well).
nlohmann::ordered_json json_value(const Cell& cell) {
  if (const auto* d = std::get_if<double>(&cell)) {
    return std::isfinite(*d) ? nlohmann::ordered_json(*d) : nlohmann::ordered_json();
  }
  if (const auto* i = std::get_if<long long>(&cell)) return *i;
  if (const auto* s = std::get_if<std::string>(&cell)) {
    return s->empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(*s);
  }
  return nullptr;
}

}  // namespace

const std::vector<std::string>& csv_columns() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const ResultColumn& c : result_columns()) v.emplace_back(c.name);
    return v;
  }();
  return names;
}

std::vector<std::string> csv_cells(const ResultRow& r) {
  std::vector<std::string> cells;
  for (const ResultColumn& c : result_columns()) cells.push_back(csv_text(c.get(r)));
  return cells;
}

std::string to_csv(const std::vector<ResultRow>& rows) {
  std::string out = fmt::format("{}\n", fmt::join(csv_columns(), ","));
  for (const ResultRow& r : rows) out += fmt::format("{}\n", fmt::join(csv_cells(r), ","));
  return out;
}

std::string to_json(const std::vector<ResultRow>& rows) {
  nlohmann::ordered_json j;
  j["schema_version"] = kResultsSchemaVersion;
  j["columns"] = csv_columns();
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const ResultRow& r : rows) {
    nlohmann::ordered_json row;
    for (const ResultColumn& c : result_columns()) row[c.name] = json_value(c.get(r));
    row["repetition_times_s"] = r.repetition_times_s;
    list.push_back(std::move(row));
  }
  j["rows"] = std::move(list);
  return j.dump(1) + "\n";
}

std::string repetitions_path(const std::string& results_path) {
  const std::string ext = ".csv";
  if (results_path.size() > ext.size() &&
      results_path.compare(results_path.size() - ext.size(), ext.size(), ext) == 0) {
    return results_path.substr(0, results_path.size() - ext.size()) + ".repetitions.csv";
  }
  return results_path + ".repetitions.csv";
}

namespace {
constexpr const char* kRepetitionsHeader =
    "schema_version,run_id,machine,workload,phase,shape,backend,dtype,threads,repetition,time_s";
}  // namespace

std::string repetitions_to_csv(const std::vector<ResultRow>& rows) {
  std::string out = std::string(kRepetitionsHeader) + "\n";
  for (const ResultRow& r : rows) {
    for (std::size_t i = 0; i < r.repetition_times_s.size(); ++i) {
      out += fmt::format("{},{},{},{},{},{},{},{},{},{},{:.9g}\n", kResultsSchemaVersion, r.run_id,
                         r.machine, r.workload, r.phase, quote(r.shape), r.backend, r.dtype,
                         r.threads, i + 1, r.repetition_times_s[i]);
    }
  }
  return out;
}

std::string carried_repetitions(const std::string& results_path) {
  std::ifstream results(results_path), reps(repetitions_path(results_path));
  std::string line;
  if (!results || !reps || !std::getline(results, line)) return {};
  const std::vector<std::string> header = split_csv_line(line);
  const auto column = std::find(header.begin(), header.end(), "run_id");
  if (column == header.end()) return {};
  const auto at = static_cast<std::size_t>(column - header.begin());
  std::set<std::string> run_ids;
  while (std::getline(results, line)) {
    const std::vector<std::string> cells = split_csv_line(line);
    if (cells.size() > at) run_ids.insert(cells[at]);
  }
  // Another schema's file is not carried (its lines would not fit the new header).
  if (!std::getline(reps, line) || line != kRepetitionsHeader) return {};
  std::string out;
  while (std::getline(reps, line)) {
    const std::vector<std::string> cells = split_csv_line(line);
    if (cells.size() > 1 && run_ids.count(cells[1]) > 0) out += line + "\n";
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
