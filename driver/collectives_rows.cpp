#include "driver/collectives_rows.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "core/stats.hpp"
#include "distributed/collectives.hpp"
#include "distributed/communicator.hpp"
#include "models/timing_models.hpp"

namespace aigc {
namespace {

std::string op_of(const ResultRow& r) { return collective_name(parse_collective_shape(r.shape).op); }

std::string byte_size(double bytes) {
  if (bytes >= (1 << 20)) return fmt::format("{:g} MiB", bytes / (1 << 20));
  if (bytes >= (1 << 10)) return fmt::format("{:g} KiB", bytes / (1 << 10));
  return fmt::format("{:g} B", bytes);
}

}  // namespace

std::vector<ResultRow> measure_collectives(const std::vector<std::string>& shapes,
                                           const TimingPolicy& timing, std::ostream& out) {
  const Workload& workload = find_workload("collectives");
  std::vector<ResultRow> rows;
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    const CollectiveShape s = parse_collective_shape(shapes[i]);
    const WorkCounts counts = workload.counts(shapes[i]);
    dist::CollectiveMeasurement m;
    try {
      m = dist::measure_collective(s, timing.repetitions, timing.min_time_s);
    } catch (const std::exception& e) {
      m.status = std::string("error: ") + e.what();
    }
    ResultRow r;
    r.workload = workload.name();
    r.shape = shapes[i];
    r.backend = "mpi";
    r.simd_target = "none";
    r.dtype = "f32";
    r.threads = 1;
    r.ranks = dist::world_size();
    // The additions of an allreduce over all ranks: (P - 1) per element.
    r.flops = counts.flops * std::max(0, r.ranks - 1);
    r.bytes = counts.bytes;
    r.arithmetic_intensity = *r.flops / *r.bytes;
    r.n_units = 1;
    r.status = m.status;
    r.max_rel_error = m.max_rel_error;
    r.error_tolerance = m.tolerance;
    if (m.status == "ok" && !m.times_s.empty()) {
      const SampleStats st = summarize(m.times_s);
      r.repetition_times_s = m.times_s;
      r.repetitions = st.count;
      r.time_median_s = st.median;
      r.time_min_s = st.min;
      r.time_max_s = st.max;
      r.time_cv = st.cv;
      r.achieved_flops = *r.flops / st.median;
      r.achieved_bytes_per_s = *r.bytes / st.median;
      r.t_comm_s = st.median;
    }
    fmt::print(out, "[{}/{}] collectives/mpi/{}/ranks:{}: {}\n", i + 1, shapes.size(), r.shape,
               r.ranks,
               r.time_median_s ? fmt::format("{:.4g} us", 1e6 * *r.time_median_s) : r.status);
    out.flush();
    rows.push_back(std::move(r));
  }
  return rows;
}

void apply_collective_models(std::vector<ResultRow>& rows) {
  std::map<std::string, std::vector<models::MessageTime>> sweeps;
  for (const ResultRow& r : rows) {
    if (r.workload == "collectives" && r.time_median_s) {
      sweeps[op_of(r)].push_back({*r.bytes, *r.time_median_s});
    }
  }
  std::map<std::string, models::Hockney> fits;
  for (const auto& [op, sweep] : sweeps) {
    if (const auto h = models::fit_hockney(sweep)) fits[op] = *h;
  }
  const auto p2p = fits.find("pingpong");
  for (ResultRow& r : rows) {
    if (r.workload != "collectives") continue;
    const CollectiveShape s = parse_collective_shape(r.shape);
    if (const auto it = fits.find(collective_name(s.op)); it != fits.end()) {
      r.alpha_s = it->second.alpha_s;
      r.beta_s_per_byte = it->second.beta_s_per_byte;
      r.t_comm_fit_s = it->second.time_s(static_cast<double>(s.bytes));
    }
    if (p2p != fits.end()) {
      r.t_comm_model_s =
          models::collective_time(s.op, p2p->second, static_cast<double>(s.bytes), r.ranks);
    }
  }
}

void print_collectives_summary(const std::vector<ResultRow>& rows, std::ostream& out) {
  std::map<std::string, std::vector<const ResultRow*>> by_op;
  for (const ResultRow& r : rows) {
    if (r.workload == "collectives" && r.time_median_s) by_op[op_of(r)].push_back(&r);
  }
  if (by_op.empty()) return;
  fmt::print(out, "\ncollectives on {} ranks: measured against Hockney's alpha + n beta (each "
                  "operation's own fit) and the algorithm's cost from the ping-pong fit\n",
             by_op.begin()->second.front()->ranks);
  fmt::print(out, "{:<10} {:>10} {:>11} {:>10} {:>9} {:>11} {:>8}\n", "op", "size", "time",
             "GB/s", "fit/meas", "algorithm", "alg/meas");
  auto ratio = [](const std::optional<double>& model, double measured) {
    return model ? fmt::format("{:.2f}", *model / measured) : std::string("-");
  };
  for (const auto& [op, list] : by_op) {
    for (const ResultRow* r : list) {
      const double t = *r->time_median_s;
      fmt::print(out, "{:<10} {:>10} {:>8.2f} us {:>10.2f} {:>9} {:>11} {:>8}\n", op,
                 byte_size(*r->bytes), 1e6 * t, *r->bytes / t * 1e-9,
                 ratio(r->t_comm_fit_s, t),
                 r->t_comm_model_s ? fmt::format("{:.2f} us", 1e6 * *r->t_comm_model_s) : "-",
                 ratio(r->t_comm_model_s, t));
    }
    const ResultRow& first = *list.front();
    if (first.alpha_s) {
      fmt::print(out, "{:<10} alpha = {:.3g} us, 1/beta = {:.3g} GB/s\n", op, 1e6 * *first.alpha_s,
                 *first.beta_s_per_byte > 0 ? 1e-9 / *first.beta_s_per_byte : INFINITY);
    }
  }
}

}  // namespace aigc
