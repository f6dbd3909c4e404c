#include "driver/summary_table.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "timing/models.hpp"

namespace aigc {
namespace {

std::string opt(const std::optional<double>& v, const char* format, double scale = 1.0) {
  return v ? fmt::format(fmt::runtime(format), *v * scale) : "-";
}

// "87%", or "134%!" for a row faster than its roofline (above_roofline).
std::string roof_cell(const ResultRow& r) {
  return opt(r.roofline_fraction, "{:.0f}%", 100) + (above_roofline(r) ? "!" : "");
}

}  // namespace

void print_roofline_warnings(const std::vector<ResultRow>& rows, std::ostream& err) {
  const auto n = std::count_if(rows.begin(), rows.end(), above_roofline);
  if (n == 0) return;
  fmt::print(err,
             "aigcbench: warning: {} row(s) ran faster than their roofline, which a correct "
             "ceiling never allows (the probe's peak or bandwidth for that row is wrong; the "
             "above_roofline column flags them):\n",
             n);
  for (const ResultRow& r : rows) {
    if (!above_roofline(r)) continue;
    fmt::print(err, "  {} {} {} {} threads: {:.0f}% of t_roofline (bound: {})\n", r.workload,
               r.shape, r.backend, r.threads, 100 * *r.roofline_fraction, r.bound);
  }
}

void print_summary_table(const std::vector<ResultRow>& rows, std::ostream& out) {
  std::size_t shape_width = 28;
  bool any_tokens = false;
  for (const ResultRow& r : rows) {
    shape_width = std::max(shape_width, r.shape.size());
    any_tokens = any_tokens || r.tokens_per_s.has_value();
  }
  // tokens/s only where a decoder ran: prefill tokens/s = prompt / time to first token.
  auto tokens = [&](const std::string& cell) {
    return any_tokens ? fmt::format(" {:>8}", cell) : std::string();
  };
  fmt::print(out, "\n{:<9} {:<{}} {:<8} {:>3} {:>11}{} {:>9} {:>9} {:>7} {:>7}  {}\n", "workload",
             "shape", shape_width, "backend", "thr", "time", tokens("tok/s"), "GFLOP/s",
             "vs scalar", "par.eff", "%roof", "status");
  for (const ResultRow& r : rows) {
    std::string time = "-";
    if (r.time_median_s) {
      // Microseconds for the single ops of the `op` workload, which take a few of them.
      time = *r.time_median_s >= 1      ? fmt::format("{:.3f} s", *r.time_median_s)
             : *r.time_median_s >= 1e-3 ? fmt::format("{:.3f} ms", *r.time_median_s * 1e3)
                                        : fmt::format("{:.3f} us", *r.time_median_s * 1e6);
    }
    std::string speedup = opt(r.speedup_vs_scalar, "{:.1f}x");
    if (r.speedup_vs_scalar && r.baseline_source == "serial_model") speedup += "*";
    fmt::print(out, "{:<9} {:<{}} {:<8} {:>3} {:>11}{} {:>9} {:>9} {:>7} {:>7}  {}\n", r.workload,
               r.shape, shape_width, r.backend, r.threads, time,
               tokens(opt(r.tokens_per_s, "{:.1f}")), opt(r.achieved_flops, "{:.1f}", 1e-9),
               speedup, r.threads > 1 ? opt(r.parallel_efficiency, "{:.0f}%", 100) : "-",
               roof_cell(r), r.status == "ok" ? "ok" : r.status);
  }
  fmt::print(out, "(* speedup against the serial model's scalar time, not a measured one)\n");
  if (std::any_of(rows.begin(), rows.end(), above_roofline)) {
    fmt::print(out, "(! faster than the roofline: a ceiling is wrong, see the warning below)\n");
  }

  // Thread sweeps: fit Amdahl's serial fraction to every backend measured at > 1 thread.
  std::map<std::string, std::pair<double, std::vector<timing::ThreadTime>>> sweeps;
  for (const ResultRow& r : rows) {
    if (!r.time_median_s || !r.t1_s || r.threads <= 1) continue;
    auto& [t1, points] = sweeps[fmt::format("{} {} {}", r.workload, r.backend, r.shape)];
    t1 = *r.t1_s;
    points.push_back({r.threads, *r.time_median_s});
  }
  if (!sweeps.empty()) {
    fmt::print(out, "\nthread scaling (Amdahl serial fraction f fitted to the sweep):\n");
    for (const auto& [name, sweep] : sweeps) {
      const auto f = timing::fit_amdahl_serial_fraction(sweep.first, sweep.second);
      if (f) fmt::print(out, "  {:<50} f = {:.3f}\n", name, *f);
    }
  }

  // Weight formats against their f32 twins: the accelerated model with the format as the
  // optimization (S measured, S_pred from the two rooflines: the ratio of bytes when both are
  // memory-bound).
  bool header = false;
  for (const ResultRow& r : rows) {
    if (!r.format_speedup_pred || !r.time_median_s) continue;
    if (!header) {
      fmt::print(out,
                 "\nweight formats against f32 (S: measured speedup, S_pred: from the "
                 "rooflines):\n");
      header = true;
    }
    fmt::print(out, "  {:<9} {:<{}} {:<8} {:>3}  S {:>6}  S_pred {:>5.2f}x  S/S_pred {:>5}\n",
               r.workload, r.shape, shape_width, r.backend, r.threads,
               opt(r.format_speedup, "{:.2f}x"), *r.format_speedup_pred,
               r.format_speedup
                   ? fmt::format("{:.0f}%", 100 * *r.format_speedup / *r.format_speedup_pred)
                   : std::string("-"));
  }
}

}  // namespace aigc
