#include "driver/model_command.hpp"

#include "driver/collectives_rows.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <fmt/ranges.h>

#include "core/errors.hpp"
#include "core/files.hpp"
#include "driver/results_csv.hpp"
#include "timing/models.hpp"
#include "workloads/collectives.hpp"
#include "workloads/decoder.hpp"

namespace aigc {
namespace {

using Row = std::map<std::string, std::string>;

// The rows of a results CSV as column -> cell.
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
  while (std::getline(in, line)) {
    const std::vector<std::string> cells = split_csv_line(line);
    Row r;
    for (std::size_t i = 0; i < header.size() && i < cells.size(); ++i) r[header[i]] = cells[i];
    rows.push_back(std::move(r));
  }
  return rows;
}

double number(const Row& r, const std::string& column) {
  const auto it = r.find(column);
  return it == r.end() || it->second.empty() ? std::numeric_limits<double>::quiet_NaN()
                                             : std::stod(it->second);
}

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
    if (r["workload"] != "decoder" || r["phase"] != "decode" || r["status"] != "ok") continue;
    if (r["backend"] != o.backend) continue;
    if (!r["ranks"].empty() && r["ranks"] != "1") continue;  // a single-process row
    if (o.threads && std::to_string(*o.threads) != r["threads"]) continue;
    if (std::find(shapes.begin(), shapes.end(), r["shape"]) == shapes.end())
      shapes.push_back(r["shape"]);
    if (o.shape.empty() || r["shape"] == o.shape) candidates.push_back(std::move(r));
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
    return number(a, "threads") < number(b, "threads");
  });
  StartingPoint s;
  s.shape = best.at("shape");
  s.threads = static_cast<int>(number(best, "threads"));
  const DecoderShape d = parse_decoder_shape(s.shape);
  s.step_s = number(best, "time_median_s") / static_cast<double>(d.gen);
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
    if (r.at("workload") != "collectives" || r.at("shape").rfind("op=pingpong,", 0) != 0 ||
        r.at("time_median_s").empty())
      continue;
    sweep.push_back({number(r, "bytes"), number(r, "time_median_s")});
    ranks = r.at("ranks");
    machine = r.at("machine");
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
  if (!o.out.empty()) check_writable(o.out, "out");
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
