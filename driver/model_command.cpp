#include "driver/model_command.hpp"

#include "driver/collectives_rows.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <fmt/ranges.h>

#include "core/errors.hpp"
#include "core/files.hpp"
#include "core/text_number.hpp"
#include "driver/results_csv.hpp"
#include "timing/models.hpp"
#include "workloads/collectives.hpp"
#include "workloads/decoder.hpp"

namespace aigc {
namespace {

// One row of a results CSV, column -> cell, with where it came from: every value read from it
// is checked, and a bad one is refused naming the option, the file, the line and the column
// (a forged file must not give a curve of inf or NaN with exit status 0).
struct Row {
  std::string argument, path;
  std::size_t line = 0;
  std::map<std::string, std::string> cells;

  std::string where(const std::string& column) const {
    return fmt::format("'{}' line {}, column {}", path, line, column);
  }
  // The cell of `column`, empty where the row has none; the column must exist in the file.
  const std::string& text(const std::string& column) const {
    const auto it = cells.find(column);
    if (it == cells.end()) {
      throw InvalidArgument(argument,
                            fmt::format("'{}' has no column '{}' (not an aigcbench results CSV "
                                        "of this schema)",
                                        path, column));
    }
    return it->second;
  }
  // The cell of a column older schemas lack (ranks), empty where it is absent.
  std::string optional_text(const std::string& column) const {
    const auto it = cells.find(column);
    return it == cells.end() ? std::string() : it->second;
  }
  // The cell of `column` as a finite number in [lo, hi].
  double number(const std::string& column, double lo, double hi) const {
    const std::string& cell = text(column);
    const std::optional<double> v = finite_number(cell);
    if (!v || *v < lo || *v > hi) {
      throw InvalidArgument(
          argument, fmt::format("{}: '{}' is not a number in {}..{}", where(column), cell, lo, hi));
    }
    return *v;
  }
  // The cell of `column` as a whole number in [lo, hi].
  int whole(const std::string& column, int lo, int hi) const {
    const double v = number(column, lo, hi);
    if (v != std::floor(v)) {
      throw InvalidArgument(argument,
                            fmt::format("{}: '{}' is not a whole number", where(column), v));
    }
    return static_cast<int>(v);
  }
};

// The rows of a results CSV.
std::vector<Row> read_rows(const std::string& path, const std::string& argument) {
  require_regular_file(path, argument);
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line)) throw InvalidArgument(argument, fmt::format("'{}' is empty", path));
  const std::vector<std::string> header = split_csv_line(line);
  if (std::find(header.begin(), header.end(), "schema_version") == header.end()) {
    throw InvalidArgument(
        argument, fmt::format("'{}' is not an aigcbench results CSV (no schema_version)", path));
  }
  std::vector<Row> rows;
  for (std::size_t number = 2; std::getline(in, line); ++number) {
    const std::vector<std::string> cells = split_csv_line(line);
    Row r{argument, path, number, {}};
    for (std::size_t i = 0; i < header.size() && i < cells.size(); ++i)
      r.cells[header[i]] = cells[i];
    rows.push_back(std::move(r));
  }
  return rows;
}

constexpr double kLongestTime = 1e6;  // seconds: a forged time beyond is refused, not modelled

// The decode row the curve starts from: its step time on one rank and its shape.
struct StartingPoint {
  std::string shape;
  int threads = 1;
  double step_s = 0;  // one decode step of the whole batch
};

StartingPoint find_start(const ModelOptions& o) {
  std::vector<Row> candidates;
  std::vector<std::string> shapes;
  for (Row& r : read_rows(o.results, "results")) {
    if (r.text("workload") != "decoder" || r.text("phase") != "decode" ||
        r.text("status") != "ok" || r.text("backend") != o.backend)
      continue;
    if (!r.optional_text("ranks").empty() && r.whole("ranks", 1, 65536) != 1) continue;
    if (o.threads && *o.threads != r.whole("threads", 1, 65536)) continue;
    const std::string& shape = r.text("shape");
    if (std::find(shapes.begin(), shapes.end(), shape) == shapes.end()) shapes.push_back(shape);
    if (o.shape.empty() || shape == o.shape) candidates.push_back(std::move(r));
  }
  if (o.shape.empty() && shapes.size() > 1) {
    throw InvalidArgument(
        "shape", fmt::format("'{}' has {} decode shapes on {}: choose one of {}", o.results,
                             shapes.size(), o.backend, fmt::join(shapes, "; ")));
  }
  if (candidates.empty()) {
    throw InvalidArgument(
        "results", fmt::format("'{}' has no measured decoder decode row{}{} on backend {}{}",
                               o.results, o.shape.empty() ? "" : " of shape ", o.shape, o.backend,
                               o.threads ? fmt::format(" at {} threads", *o.threads) : ""));
  }
  const Row& best = *std::max_element(candidates.begin(), candidates.end(), [](auto& a, auto& b) {
    return a.whole("threads", 1, 65536) < b.whole("threads", 1, 65536);
  });
  StartingPoint s;
  s.shape = best.text("shape");
  s.threads = best.whole("threads", 1, 65536);
  DecoderShape d;
  try {
    d = parse_decoder_shape(s.shape);
  } catch (const InvalidArgument& e) {
    throw InvalidArgument("results", fmt::format("{}: {}", best.where("shape"), e.what()));
  }
  if (d.gen < 1) {
    throw InvalidArgument("results", fmt::format("{}: '{}' generates no tokens (a decode row's "
                                                 "shape has gen=N, N >= 1)",
                                                 best.where("shape"), s.shape));
  }
  s.step_s = best.number("time_median_s", 1e-12, kLongestTime) / static_cast<double>(d.gen);
  return s;
}

// The network: given, or the ping-pong regimes of a collectives run (each message of a step
// then takes the alpha and beta of its size).
std::vector<timing::HockneyRegime> find_network(const ModelOptions& o, std::string& source) {
  if (o.alpha_s || o.beta_s_per_byte) {
    if (!o.alpha_s || !o.beta_s_per_byte) {
      throw InvalidArgument(o.alpha_s ? "beta" : "alpha", "--alpha and --beta go together");
    }
    if (!o.network.empty()) {
      throw InvalidArgument("network", "give --network or --alpha and --beta, not both");
    }
    source = "given";
    return timing::single_regime({*o.alpha_s, *o.beta_s_per_byte});
  }
  if (o.network.empty()) {
    throw InvalidArgument("network",
                          "the network is needed: --alpha S --beta S/B, or --network with a "
                          "collectives run's CSV (its ping-pong fit)");
  }
  std::vector<timing::MessageTime> sweep;
  std::string ranks, machine;
  for (const Row& r : read_rows(o.network, "network")) {
    if (r.text("workload") != "collectives" || r.text("shape").rfind("op=pingpong,", 0) != 0 ||
        r.text("time_median_s").empty())
      continue;
    sweep.push_back({r.number("bytes", 0, 1e15), r.number("time_median_s", 1e-12, kLongestTime)});
    ranks = r.optional_text("ranks");
    machine = r.text("machine");
  }
  auto regimes = timing::fit_measured_regimes(sweep);
  if (regimes.empty()) {
    throw InvalidArgument("network",
                          fmt::format("'{}' has no measured ping-pong sizes to fit (run "
                                      "mpirun -np 2 aigcbench run --workloads collectives)",
                                      o.network));
  }
  source = fmt::format("the ping-pong regimes of {} ({} ranks on {}, {} sizes)", o.network, ranks,
                       machine, sweep.size());
  return regimes;
}

}  // namespace

int model_command(const ModelOptions& o, std::ostream& out) {
  if (o.ranks.empty()) throw InvalidArgument("ranks", "no rank counts given (valid: 1..65536)");
  for (const int p : o.ranks) {
    if (p < 1 || p > 65536) {
      throw InvalidArgument("ranks", fmt::format("{} is out of range (valid: 1..65536)", p));
    }
  }
  if (!o.out.empty()) {
    check_writable(o.out, "out");
    refuse_output_over_input(o.out, "out", {{"results", o.results}, {"network", o.network}});
  }
  std::string network_source;
  const std::vector<timing::HockneyRegime> net = find_network(o, network_source);
  const StartingPoint start = find_start(o);
  const DecoderShape d = parse_decoder_shape(start.shape);
  const timing::TensorParallelTraffic step = tensor_parallel_steps(start.shape).step;

  fmt::print(out,
             "distributed model of a tensor-parallel decode step: {} on {} at {} threads, "
             "{:.3f} ms a step on one rank ({})\n",
             start.shape, o.backend, start.threads, 1e3 * start.step_s, o.results);
  fmt::print(out, "network: {}\n", network_source);
  for (const timing::HockneyRegime& r : net) {
    fmt::print(out, "  {}alpha = {:.3g} us, 1/beta = {:.3g} GB/s\n",
               std::isfinite(r.max_bytes)
                   ? fmt::format("{} .. {}: ", message_size(r.min_bytes), message_size(r.max_bytes))
                   : "",
               1e6 * r.fit.alpha_s,
               r.fit.beta_s_per_byte > 0 ? 1e-9 / r.fit.beta_s_per_byte : INFINITY);
  }
  fmt::print(out, "a step moves {} allreduces of {:.0f} B and one allgather of {:.0f} B\n",
             2 * step.n_layer + 1, step.activation_bytes, step.logits_bytes);
  fmt::print(out, "{:>6} {:>12} {:>12} {:>12} {:>10} {:>8} {:>7}\n", "ranks", "compute ms",
             "comm ms", "wall ms", "tokens/s", "speedup", "eff.");
  std::ostringstream csv;
  csv << "ranks,t_compute_s,t_comm_s,t_wall_s,tokens_per_s,speedup,efficiency,cost_s,alpha_s,"
         "beta_s_per_byte,shape\n";
  // The CSV's alpha and beta: those of a 2-rank allreduce's messages (the step's most).
  const timing::Hockney& allreduce_net = timing::regime_for(net, step.activation_bytes / 2);
  for (const int p : o.ranks) {
    const timing::ScalingPoint pt =
        timing::scaling_point(start.step_s, p, timing::tensor_parallel_comm_time(step, net, p));
    const double tokens = static_cast<double>(d.batch) / pt.t_wall_s;
    fmt::print(out, "{:>6} {:>12.4f} {:>12.4f} {:>12.4f} {:>10.1f} {:>7.2f}x {:>6.0f}%\n", p,
               1e3 * pt.t_compute_s, 1e3 * pt.t_comm_s, 1e3 * pt.t_wall_s, tokens, pt.speedup,
               100 * pt.efficiency);
    csv << fmt::format("{},{:.9g},{:.9g},{:.9g},{:.9g},{:.9g},{:.9g},{:.9g},{:.9g},{:.9g},\"{}\"\n",
                       p, pt.t_compute_s, pt.t_comm_s, pt.t_wall_s, tokens, pt.speedup,
                       pt.efficiency, pt.cost_s, allreduce_net.alpha_s,
                       allreduce_net.beta_s_per_byte, start.shape);
  }
  const auto cross = timing::communication_crossover(start.step_s, step, net, 65536);
  fmt::print(
      out, "crossover: {}\n",
      cross ? fmt::format("from P = {} communication takes longer than the compute share", *cross)
            : "communication stays below the compute share up to 65536 ranks");
  if (!o.out.empty()) {
    write_file_atomically(o.out, csv.str());
    fmt::print(out, "wrote {}\n", o.out);
  }
  return 0;
}

}  // namespace aigc
