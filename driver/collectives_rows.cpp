#include "driver/collectives_rows.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "core/stats.hpp"
#include "distributed/collectives.hpp"
#include "distributed/communicator.hpp"
#include "timing/models.hpp"
#include "workloads/decoder.hpp"

namespace aigc {
namespace {

std::string op_of(const ResultRow& r) {
  return collective_name(parse_collective_shape(r.shape).op);
}

}  // namespace

TensorParallelSteps tensor_parallel_steps(const std::string& decoder_shape) {
  const DecoderShape d = parse_decoder_shape(decoder_shape);
  // A prefill is one step of the prompt's rows (logits of its last position); a decode run gen
  // steps of the batch's rows.
  const double rows = d.gen == 0 ? double(d.prompt) : double(d.batch);
  const double logit_rows = d.gen == 0 ? 1.0 : double(d.batch);
  return {.steps = d.gen == 0 ? 1 : d.gen,
          .step = {.n_layer = static_cast<int>(d.config.n_layer),
                   .activation_bytes = 4.0 * rows * double(d.config.n_embd),
                   .logits_bytes = d.logits ? 4.0 * logit_rows * double(d.config.vocab) : 0.0}};
}

std::vector<ResultRow> measure_collectives(const Workload& workload,
                                           const std::vector<Shape>& shapes,
                                           const TimingPolicy& timing, std::ostream& out) {
  std::vector<ResultRow> rows;
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    const CollectiveShape& s = shapes[i].as<CollectiveShape>();
    const WorkCounts counts = workload.counts(shapes[i]);
    dist::CollectiveMeasurement m;
    try {
      m = dist::measure_collective(s, timing.repetitions, timing.min_time_s);
    } catch (const std::exception& e) {
      m.status = std::string("error: ") + e.what();
    }
    ResultRow r;
    r.workload = workload.name();
    r.shape = shapes[i].text();
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
      set_time_columns(r, st);
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
  std::map<std::string, std::vector<timing::MessageTime>> sweeps;
  for (const ResultRow& r : rows) {
    if (r.workload == "collectives" && r.time_median_s) {
      sweeps[op_of(r)].push_back({*r.bytes, *r.time_median_s});
    }
  }
  std::map<std::string, std::vector<timing::HockneyRegime>> fits;
  for (const auto& [op, sweep] : sweeps) {
    auto regimes = timing::fit_measured_regimes(sweep);
    if (!regimes.empty()) fits[op] = std::move(regimes);
  }
  const auto p2p = fits.find("pingpong");
  for (ResultRow& r : rows) {
    if (r.workload != "collectives") continue;
    const CollectiveShape s = parse_collective_shape(r.shape);
    const double n = static_cast<double>(s.bytes);
    if (const auto it = fits.find(collective_name(s.op)); it != fits.end()) {
      const timing::Hockney& h = timing::regime_for(it->second, n);
      r.alpha_s = h.alpha_s;
      r.beta_s_per_byte = h.beta_s_per_byte;
      r.t_comm_fit_s = h.time_s(n);
    }
    if (p2p != fits.end())
      r.t_comm_model_s = timing::collective_time(s.op, p2p->second, n, r.ranks);
  }
  // Tensor-parallel rows: their collectives priced by the textbook algorithms from the ping-pong
  // (the distributed model) and by the run's own allreduce and allgather fits.
  const auto allreduce = fits.find("allreduce"), allgather = fits.find("allgather");
  for (ResultRow& r : rows) {
    if (r.workload != "decoder" || r.ranks < 2 || !r.time_median_s) continue;
    const TensorParallelSteps t = tensor_parallel_steps(r.shape);
    const double steps = static_cast<double>(t.steps);
    if (p2p != fits.end()) {
      r.t_comm_model_s = steps * timing::tensor_parallel_comm_time(t.step, p2p->second, r.ranks);
      if (r.t_one_rank_s) {
        r.t_wall_model_s =
            timing::distributed_wall_time(*r.t_one_rank_s, r.ranks, *r.t_comm_model_s);
      }
    }
    if (allreduce != fits.end() && (allgather != fits.end() || t.step.logits_bytes == 0)) {
      // Each collective at its own fitted line (the regime of its size).
      auto fitted = [](const auto& fit) {
        return [&fit](double n) { return timing::regime_for(fit->second, n).time_s(n); };
      };
      r.t_comm_fit_s =
          steps * timing::tensor_parallel_comm_time(t.step, fitted(allreduce), fitted(allgather));
    }
  }
}

void print_collectives_summary(const std::vector<ResultRow>& rows, std::ostream& out) {
  std::map<std::string, std::vector<const ResultRow*>> by_op;
  for (const ResultRow& r : rows) {
    if (r.workload == "collectives" && r.time_median_s) by_op[op_of(r)].push_back(&r);
  }
  if (by_op.empty()) return;
  for (auto& [op, list] : by_op) {
    std::sort(list.begin(), list.end(), [](auto* a, auto* b) { return *a->bytes < *b->bytes; });
  }
  fmt::print(out,
             "\ncollectives on {} ranks: measured against Hockney's alpha + n beta (each "
             "operation's own fit) and the algorithm's cost from the ping-pong fit\n",
             by_op.begin()->second.front()->ranks);
  fmt::print(out, "{:<10} {:>10} {:>11} {:>10} {:>9} {:>11} {:>8}\n", "op", "size", "time", "GB/s",
             "fit/meas", "algorithm", "alg/meas");
  auto ratio = [](const std::optional<double>& model, double measured) {
    return model ? fmt::format("{:.2f}", *model / measured) : std::string("-");
  };
  for (const auto& [op, list] : by_op) {
    for (const ResultRow* r : list) {
      const double t = *r->time_median_s;
      fmt::print(out, "{:<10} {:>10} {:>8.2f} us {:>10.2f} {:>9} {:>11} {:>8}\n", op,
                 message_size(*r->bytes), 1e6 * t, *r->bytes / t * 1e-9, ratio(r->t_comm_fit_s, t),
                 r->t_comm_model_s ? fmt::format("{:.2f} us", 1e6 * *r->t_comm_model_s) : "-",
                 ratio(r->t_comm_model_s, t));
    }
    // Its regimes (consecutive sizes sharing alpha and beta), and how far the fit and the
    // algorithm's cost are from the measurements between 4 KiB and 64 MiB (the target's range).
    for (std::size_t i = 0; i < list.size();) {
      std::size_t j = i;
      while (j + 1 < list.size() && list[j + 1]->alpha_s == list[i]->alpha_s &&
             list[j + 1]->beta_s_per_byte == list[i]->beta_s_per_byte)
        ++j;
      if (list[i]->alpha_s) {
        fmt::print(out, "{:<10} {} .. {}: alpha = {:.3g} us, 1/beta = {:.3g} GB/s\n", op,
                   message_size(*list[i]->bytes), message_size(*list[j]->bytes),
                   1e6 * *list[i]->alpha_s,
                   *list[i]->beta_s_per_byte > 0 ? 1e-9 / *list[i]->beta_s_per_byte : INFINITY);
      }
      i = j + 1;
    }
    double worst_fit = 0, worst_model = 0;
    for (const ResultRow* r : list) {
      if (*r->bytes < 4096 || *r->bytes > 64.0 * (1 << 20)) continue;
      if (r->t_comm_fit_s)
        worst_fit = std::max(worst_fit, std::abs(*r->t_comm_fit_s / *r->time_median_s - 1));
      if (r->t_comm_model_s)
        worst_model = std::max(worst_model, std::abs(*r->t_comm_model_s / *r->time_median_s - 1));
    }
    fmt::print(out, "{:<10} 4 KiB .. 64 MiB: fit within {:.0f}%, algorithm within {:.0f}%\n", op,
               100 * worst_fit, 100 * worst_model);
  }
}

}  // namespace aigc
