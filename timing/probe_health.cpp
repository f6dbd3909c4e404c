#include "timing/probe_health.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace aigc {
namespace {

double seconds(const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) * 1e-6; }

}  // namespace

CpuTimes read_cpu_times() {
  CpuTimes t;
  std::ifstream in("/proc/stat");
  std::string line;
  if (!in || !std::getline(in, line) || line.rfind("cpu ", 0) != 0) return t;
  // cpu  user nice system idle iowait irq softirq steal guest guest_nice (in clock ticks;
  // guest time is already inside user).
  std::istringstream fields(line.substr(4));
  double v[8] = {};
  for (double& x : v) fields >> x;
  if (!fields) return t;
  const double tick = 1.0 / double(sysconf(_SC_CLK_TCK));
  t.busy_s = (v[0] + v[1] + v[2] + v[5] + v[6]) * tick;
  t.idle_s = (v[3] + v[4]) * tick;
  t.steal_s = v[7] * tick;
  rusage own{};
  getrusage(RUSAGE_SELF, &own);
  t.own_s = seconds(own.ru_utime) + seconds(own.ru_stime);
  t.valid = true;
  return t;
}

LoadDuringProbe load_between(const CpuTimes& before, const CpuTimes& after) {
  if (!before.valid || !after.valid) return {};
  const double busy = after.busy_s - before.busy_s, idle = after.idle_s - before.idle_s;
  const double steal = after.steal_s - before.steal_s, own = after.own_s - before.own_s;
  const double total = busy + idle + steal;
  if (!(total > 0)) return {};
  // /proc/stat counts in ticks and getrusage in microseconds: a few ticks' skew, clamped.
  return {.others_busy = std::clamp((busy - own) / total, 0.0, 1.0),
          .steal = std::clamp(steal / total, 0.0, 1.0)};
}

std::vector<std::string> contention_reasons(const LoadDuringProbe& load, double fma_one_thread,
                                            double fma_all_threads, int cores) {
  std::vector<std::string> reasons;
  if (load.others_busy > 0.10)
    reasons.push_back(
        fmt::format("other processes used {:.0f}% of the cores' time", 100 * load.others_busy));
  if (load.steal > 0.05)
    reasons.push_back(fmt::format("the hypervisor took {:.0f}% (steal time)", 100 * load.steal));
  if (cores > 1 && fma_one_thread > 0 && fma_all_threads < 0.8 * cores * fma_one_thread)
    reasons.push_back(fmt::format(
        "the FMA rate did not scale: {} threads {:.1f} GFLOP/s, {:.2f}x one thread's {:.1f} "
        "(at least {:.1f}x expected)",
        cores, fma_all_threads / 1e9, fma_all_threads / fma_one_thread, fma_one_thread / 1e9,
        0.8 * cores));
  return reasons;
}

double spot_tolerance(const SpotFigure& f) { return std::max(0.25, 2 * f.noise); }

std::optional<SpotFigure> figure_off(const std::vector<SpotFigure>& figures) {
  std::optional<SpotFigure> worst;
  double worst_excess = 0;
  for (const SpotFigure& f : figures) {
    const double off = std::abs(f.measured / f.cached - 1);
    // NaN or a zero cached figure counts as off: nothing can be said from it.
    const double excess = std::isfinite(off) ? off - spot_tolerance(f) : 1e9;
    if (excess > worst_excess) worst = f, worst_excess = excess;
  }
  return worst;
}

std::string describe(const SpotFigure& f) {
  const bool flops = f.name.rfind("FMA", 0) == 0;
  const double unit = 1e9;
  return fmt::format("{} {:.1f} {} vs {:.1f} cached ({:+.0f}%, bound {:.0f}%)", f.name,
                     f.measured / unit, flops ? "GFLOP/s" : "GB/s", f.cached / unit,
                     100 * (f.measured / f.cached - 1), 100 * spot_tolerance(f));
}

}  // namespace aigc
