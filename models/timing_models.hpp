#pragma once
// The timing models every measurement is held against (shared/design/timing-models.md).
// Pure functions of measured or analytic numbers, so each can be checked by hand.
#include <optional>
#include <span>

namespace aigc::models {

// 1. Serial: T_serial = T_single * N, and how far the measurement is from it.
double serial_time(double t_single_s, long long n_units);
double serial_model_error(double t_measured_s, double t_serial_s);  // T_measured / T_serial - 1

// 2. Parallel.
double ideal_parallel_time(double t1_s, int p);                  // T1 / P
double amdahl_time(double t1_s, double serial_fraction, int p);  // T1 (f + (1-f)/P)
double amdahl_speedup(double serial_fraction, int p);            // 1 / (f + (1-f)/P)
double gustafson_speedup(double serial_fraction, int p);         // P - f (P - 1)
double parallel_speedup(double t1_s, double tp_s);               // S_P = T1 / T_P
double parallel_efficiency(double t1_s, double tp_s, int p);     // S_P / P
// Karp-Flatt experimentally determined serial fraction, defined for P > 1.
std::optional<double> karp_flatt(double speedup, int p);

struct ThreadTime {
  int threads;
  double time_s;
};
// Least-squares Amdahl serial fraction f over a thread sweep (points with P > 1),
// given T1; clamped to [0, 1]. Nullopt without a point at P > 1.
std::optional<double> fit_amdahl_serial_fraction(double t1_s, std::span<const ThreadTime> sweep);

// 3. Accelerated: T = T_original / S.
double accelerated_time(double t_original_s, double speedup);
double measured_acceleration(double t_original_s, double t_backend_s);
// S_pred = T_roof(baseline hardware) / T_roof(backend hardware).
double predicted_acceleration(double t_roof_baseline_s, double t_roof_backend_s);

// 4. Roofline: T_roof = max(FLOPs / peak, bytes / bandwidth).
struct Roofline {
  double time_s = 0;
  double arithmetic_intensity = 0;  // FLOPs / byte
  bool compute_bound = false;
};
Roofline roofline(double flops, double bytes, double peak_flops, double peak_bytes_per_s);
double roofline_fraction(double t_roof_s, double t_measured_s);  // 1.0 = at the limit

}  // namespace aigc::models
