#include "timing/models.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace aigc::timing {
namespace {

void require_positive(double v, const char* what) {
  if (!(v > 0)) throw std::invalid_argument(std::string(what) + " must be > 0");
}

}  // namespace

double serial_time(double t_single_s, long long n_units) {
  require_positive(t_single_s, "t_single_s");
  if (n_units < 1) throw std::invalid_argument("n_units must be >= 1");
  return t_single_s * static_cast<double>(n_units);
}

double serial_model_error(double t_measured_s, double t_serial_s) {
  require_positive(t_serial_s, "t_serial_s");
  return t_measured_s / t_serial_s - 1.0;
}

double ideal_parallel_time(double t1_s, int p) {
  if (p < 1) throw std::invalid_argument("p must be >= 1");
  return t1_s / p;
}

double amdahl_time(double t1_s, double f, int p) {
  if (p < 1) throw std::invalid_argument("p must be >= 1");
  return t1_s * (f + (1.0 - f) / p);
}

double amdahl_speedup(double f, int p) { return 1.0 / amdahl_time(1.0, f, p); }

double gustafson_speedup(double f, int p) {
  if (p < 1) throw std::invalid_argument("p must be >= 1");
  return p - f * (p - 1);
}

double parallel_speedup(double t1_s, double tp_s) {
  require_positive(tp_s, "tp_s");
  return t1_s / tp_s;
}

double parallel_efficiency(double t1_s, double tp_s, int p) {
  if (p < 1) throw std::invalid_argument("p must be >= 1");
  return parallel_speedup(t1_s, tp_s) / p;
}

std::optional<double> karp_flatt(double speedup, int p) {
  if (p <= 1) return std::nullopt;
  require_positive(speedup, "speedup");
  return (1.0 / speedup - 1.0 / p) / (1.0 - 1.0 / p);
}

std::optional<double> fit_amdahl_serial_fraction(double t1_s, std::span<const ThreadTime> sweep) {
  // T_P - T1/P = f * T1 (1 - 1/P): linear in f through the origin, so
  // f = sum(x y) / sum(x^2) with x = T1 (1 - 1/P), y = T_P - T1/P.
  double sxy = 0, sxx = 0;
  for (const ThreadTime& pt : sweep) {
    if (pt.threads <= 1) continue;
    const double x = t1_s * (1.0 - 1.0 / pt.threads);
    const double y = pt.time_s - t1_s / pt.threads;
    sxy += x * y;
    sxx += x * x;
  }
  if (sxx == 0) return std::nullopt;
  return std::clamp(sxy / sxx, 0.0, 1.0);
}

double accelerated_time(double t_original_s, double speedup) {
  require_positive(speedup, "speedup");
  return t_original_s / speedup;
}

double measured_acceleration(double t_original_s, double t_backend_s) {
  require_positive(t_backend_s, "t_backend_s");
  return t_original_s / t_backend_s;
}

double predicted_acceleration(double t_roof_baseline_s, double t_roof_backend_s) {
  require_positive(t_roof_backend_s, "t_roof_backend_s");
  return t_roof_baseline_s / t_roof_backend_s;
}

Roofline roofline(double flops, double bytes, double peak_flops, double peak_bytes_per_s) {
  require_positive(peak_flops, "peak_flops");
  require_positive(peak_bytes_per_s, "peak_bytes_per_s");
  require_positive(bytes, "bytes");
  const double t_compute = flops / peak_flops;
  const double t_memory = bytes / peak_bytes_per_s;
  return {std::max(t_compute, t_memory), flops / bytes, t_compute >= t_memory};
}

double roofline_fraction(double t_roof_s, double t_measured_s) {
  require_positive(t_measured_s, "t_measured_s");
  return t_roof_s / t_measured_s;
}

std::optional<Hockney> fit_hockney(std::span<const MessageTime> sweep) {
  // Minimising sum (alpha x + beta y - 1)^2 with x = 1/T, y = n/T: the normal equations of a
  // two-parameter linear fit without intercept.
  double sxx = 0, sxy = 0, syy = 0, sx = 0, sy = 0;
  std::optional<double> first_size;
  bool two_sizes = false;
  for (const MessageTime& m : sweep) {
    if (!(m.time_s > 0) || !(m.bytes >= 0)) {
      throw std::invalid_argument("fit_hockney: each time must be > 0 and each size >= 0");
    }
    const double x = 1.0 / m.time_s, y = m.bytes / m.time_s;
    sxx += x * x;
    sxy += x * y;
    syy += y * y;
    sx += x;
    sy += y;
    if (!first_size) first_size = m.bytes;
    two_sizes = two_sizes || m.bytes != *first_size;
  }
  if (!two_sizes) return std::nullopt;
  const double det = sxx * syy - sxy * sxy;
  Hockney h{(sx * syy - sy * sxy) / det, (sy * sxx - sx * sxy) / det};
  if (h.alpha_s < 0) h = {0, sy / syy};       // bandwidth only
  if (h.beta_s_per_byte < 0) h = {sx / sxx, 0};  // latency only
  return h;
}

namespace {

// The worst |fit / measured - 1| of a fit over `points`.
double worst_relative_error(std::span<const MessageTime> points, const Hockney& h) {
  double worst = 0;
  for (const MessageTime& m : points) worst = std::max(worst, std::abs(h.time_s(m.bytes) / m.time_s - 1));
  return worst;
}

}  // namespace

std::vector<HockneyRegime> fit_hockney_regimes(std::span<const MessageTime> sweep,
                                               int max_regimes, int min_points, double within) {
  if (max_regimes < 1 || min_points < 2) {
    throw std::invalid_argument("fit_hockney_regimes: max_regimes >= 1 and min_points >= 2");
  }
  std::vector<MessageTime> pts(sweep.begin(), sweep.end());
  std::sort(pts.begin(), pts.end(), [](auto& a, auto& b) { return a.bytes < b.bytes; });
  const int n = static_cast<int>(pts.size());
  if (n < min_points) return {};
  // err[i][j]: the worst error of one fit over points i..j (j - i + 1 >= min_points).
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<std::vector<double>> err(n, std::vector<double>(n, inf));
  std::vector<std::vector<Hockney>> fit(n, std::vector<Hockney>(n));
  for (int i = 0; i < n; ++i) {
    for (int j = i + min_points - 1; j < n; ++j) {
      const std::span<const MessageTime> part(pts.data() + i, static_cast<std::size_t>(j - i + 1));
      if (const auto h = fit_hockney(part)) {
        fit[i][j] = *h;
        err[i][j] = worst_relative_error(part, *h);
      }
    }
  }
  // best[k][j]: the smallest worst error of points 0..j cut into k regimes; cut[k][j]: where
  // the last of them starts.
  std::vector<std::vector<double>> best(max_regimes + 1, std::vector<double>(n, inf));
  std::vector<std::vector<int>> cut(max_regimes + 1, std::vector<int>(n, -1));
  for (int j = 0; j < n; ++j) best[1][j] = err[0][j], cut[1][j] = 0;
  for (int k = 2; k <= max_regimes; ++k) {
    for (int j = 0; j < n; ++j) {
      for (int start = 1; start <= j; ++start) {
        const double e = std::max(best[k - 1][start - 1], err[start][j]);
        if (e < best[k][j]) best[k][j] = e, cut[k][j] = start;
      }
    }
  }
  int regimes = 0;
  for (int k = 1; k <= max_regimes && regimes == 0; ++k) {
    if (best[k][n - 1] <= within) regimes = k;
  }
  if (regimes == 0) {  // none within: the count that comes closest
    regimes = 1;
    for (int k = 2; k <= max_regimes; ++k) {
      if (best[k][n - 1] < best[regimes][n - 1]) regimes = k;
    }
  }
  if (!std::isfinite(best[regimes][n - 1])) return {};
  std::vector<HockneyRegime> out;
  for (int k = regimes, j = n - 1; k >= 1; --k) {
    const int start = cut[k][j];
    out.push_back({pts[start].bytes, pts[j].bytes, fit[start][j]});
    j = start - 1;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<HockneyRegime> fit_measured_regimes(std::span<const MessageTime> sweep) {
  // Two sizes make a line; a regime of its own needs three (else every pair is exact).
  return fit_hockney_regimes(sweep, 4, sweep.size() >= 3 ? 3 : 2);
}

const Hockney& regime_for(const std::vector<HockneyRegime>& regimes, double bytes) {
  if (regimes.empty()) throw std::invalid_argument("regime_for: no regimes");
  const HockneyRegime* nearest = &regimes.front();
  double distance = std::numeric_limits<double>::infinity();
  for (const HockneyRegime& r : regimes) {
    if (bytes >= r.min_bytes && bytes <= r.max_bytes) return r.fit;
    // On a log scale: sizes step by factors.
    const double d = std::min(std::abs(std::log(bytes / r.min_bytes)),
                              std::abs(std::log(bytes / r.max_bytes)));
    if (d < distance) distance = d, nearest = &r;
  }
  return nearest->fit;
}

double collective_time(Collective op, const Hockney& p2p, double bytes, int ranks) {
  if (ranks < 1) throw std::invalid_argument("collective_time: ranks must be >= 1");
  if (ranks == 1 && op != Collective::pingpong) return 0;
  const double p = ranks, a = p2p.alpha_s, b = p2p.beta_s_per_byte;
  switch (op) {
    case Collective::pingpong:
      return a + bytes * b;
    case Collective::broadcast:
      return std::ceil(std::log2(p)) * (a + bytes * b);
    case Collective::allgather:
      return (p - 1) * a + (p - 1) / p * bytes * b;
    case Collective::allreduce:
      return 2 * (p - 1) * a + 2 * (p - 1) / p * bytes * b;
  }
  return 0;
}

double distributed_wall_time(double t_compute_1rank_s, int ranks, double t_comm_s) {
  if (ranks < 1) throw std::invalid_argument("distributed_wall_time: ranks must be >= 1");
  return t_compute_1rank_s / ranks + t_comm_s;
}

double distributed_cost(double t_wall_s, int ranks) { return ranks * t_wall_s; }

double collective_time(Collective op, const std::vector<HockneyRegime>& p2p, double bytes,
                       int ranks) {
  const bool ring = op == Collective::allreduce || op == Collective::allgather;
  const double message = ring ? bytes / std::max(ranks, 1) : bytes;
  return collective_time(op, regime_for(p2p, message), bytes, ranks);
}

std::vector<HockneyRegime> single_regime(const Hockney& h) {
  return {{0, std::numeric_limits<double>::infinity(), h}};
}

double tensor_parallel_comm_time(const TensorParallelTraffic& step,
                                 const std::function<double(double)>& allreduce_s,
                                 const std::function<double(double)>& allgather_s) {
  const double allreduces = 2.0 * step.n_layer + 1;
  const double gather = step.logits_bytes > 0 ? allgather_s(step.logits_bytes) : 0.0;
  return allreduces * allreduce_s(step.activation_bytes) + gather;
}

double tensor_parallel_comm_time(const TensorParallelTraffic& step,
                                 const std::vector<HockneyRegime>& p2p, int ranks) {
  return tensor_parallel_comm_time(
      step, [&](double n) { return collective_time(Collective::allreduce, p2p, n, ranks); },
      [&](double n) { return collective_time(Collective::allgather, p2p, n, ranks); });
}

ScalingPoint scaling_point(double t_compute_1rank_s, int ranks, double t_comm_s) {
  require_positive(t_compute_1rank_s, "t_compute_1rank_s");
  ScalingPoint p;
  p.ranks = ranks;
  p.t_compute_s = t_compute_1rank_s / ranks;
  p.t_comm_s = t_comm_s;
  p.t_wall_s = distributed_wall_time(t_compute_1rank_s, ranks, t_comm_s);
  p.speedup = t_compute_1rank_s / p.t_wall_s;
  p.efficiency = p.speedup / ranks;
  p.cost_s = distributed_cost(p.t_wall_s, ranks);
  return p;
}

std::optional<int> communication_crossover(double t_compute_1rank_s,
                                           const TensorParallelTraffic& step,
                                           const std::vector<HockneyRegime>& p2p, int max_ranks) {
  for (int p = 2; p <= max_ranks; ++p) {
    if (tensor_parallel_comm_time(step, p2p, p) > t_compute_1rank_s / p) return p;
  }
  return std::nullopt;
}

}  // namespace aigc::timing
