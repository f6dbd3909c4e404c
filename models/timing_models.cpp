#include "models/timing_models.hpp"

#include <algorithm>
#include <stdexcept>

namespace aigc::models {
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

}  // namespace aigc::models
