// The timing models on hand-computed cases (shared/design/timing-models.md).
#include <catch2/catch.hpp>

#include "models/timing_models.hpp"

using namespace aigc::models;

TEST_CASE("the serial model multiplies one unit's time by the number of units") {
  CHECK(serial_time(0.002, 64) == Approx(0.128));
  // Measured 0.16 s against a predicted 0.128 s: 25% slower than the model.
  CHECK(serial_model_error(0.16, 0.128) == Approx(0.25));
  CHECK(serial_model_error(0.096, 0.128) == Approx(-0.25));
  CHECK_THROWS(serial_time(0.0, 10));
  CHECK_THROWS(serial_time(1.0, 0));
}

TEST_CASE("the ideal parallel time divides by the workers") {
  CHECK(ideal_parallel_time(8.0, 4) == Approx(2.0));
  CHECK(ideal_parallel_time(8.0, 1) == Approx(8.0));
  CHECK_THROWS(ideal_parallel_time(8.0, 0));
}

TEST_CASE("Amdahl's law: a 10% serial fraction on 4 workers") {
  // T = T1 (0.1 + 0.9 / 4) = 0.325 T1, S = 1 / 0.325 = 3.0769...
  CHECK(amdahl_time(10.0, 0.1, 4) == Approx(3.25));
  CHECK(amdahl_speedup(0.1, 4) == Approx(1.0 / 0.325));
  CHECK(amdahl_speedup(0.0, 16) == Approx(16.0));
  CHECK(amdahl_speedup(1.0, 16) == Approx(1.0));
}

TEST_CASE("Gustafson's scaled speedup: S = P - f (P - 1)") {
  CHECK(gustafson_speedup(0.1, 4) == Approx(3.7));
  CHECK(gustafson_speedup(0.0, 8) == Approx(8.0));
}

TEST_CASE("measured parallel speedup and efficiency") {
  CHECK(parallel_speedup(10.0, 4.0) == Approx(2.5));
  CHECK(parallel_efficiency(10.0, 4.0, 4) == Approx(0.625));
}

TEST_CASE("the Karp-Flatt metric recovers Amdahl's serial fraction") {
  // With S from Amdahl's law at f = 0.1, e must give back 0.1.
  const double s4 = amdahl_speedup(0.1, 4);
  REQUIRE(karp_flatt(s4, 4).has_value());
  CHECK(*karp_flatt(s4, 4) == Approx(0.1));
  // By hand: S = 3 on 4 workers: e = (1/3 - 1/4) / (1 - 1/4) = 1/9.
  CHECK(*karp_flatt(3.0, 4) == Approx(1.0 / 9.0));
  // Perfect scaling: e = 0; undefined for one worker.
  CHECK(*karp_flatt(2.0, 2) == Approx(0.0).margin(1e-15));
  CHECK_FALSE(karp_flatt(1.0, 1).has_value());
}

TEST_CASE("fitting Amdahl's serial fraction to a thread sweep") {
  const double t1 = 12.0;
  const std::vector<ThreadTime> exact{
      {2, amdahl_time(t1, 0.2, 2)}, {4, amdahl_time(t1, 0.2, 4)}, {8, amdahl_time(t1, 0.2, 8)}};
  REQUIRE(fit_amdahl_serial_fraction(t1, exact).has_value());
  CHECK(*fit_amdahl_serial_fraction(t1, exact) == Approx(0.2));
  // By hand, one point: T2 = 7 with T1 = 12: 7 - 6 = f * 12 * 0.5, f = 1/6.
  const std::vector<ThreadTime> one{{1, 12.0}, {2, 7.0}};
  CHECK(*fit_amdahl_serial_fraction(t1, one) == Approx(1.0 / 6.0));
  // Superlinear points clamp at 0; no point past one thread: no fit.
  const std::vector<ThreadTime> superlinear{{2, 5.0}};
  CHECK(*fit_amdahl_serial_fraction(t1, superlinear) == 0.0);
  const std::vector<ThreadTime> none{{1, 12.0}};
  CHECK_FALSE(fit_amdahl_serial_fraction(t1, none).has_value());
}

TEST_CASE("the accelerated model divides the original time by the speedup") {
  CHECK(accelerated_time(30.0, 12.0) == Approx(2.5));
  CHECK(measured_acceleration(30.0, 2.5) == Approx(12.0));
  // Baseline hardware's roofline 1 s, the backend's 0.05 s: at most 20x to be had.
  CHECK(predicted_acceleration(1.0, 0.05) == Approx(20.0));
}

TEST_CASE("the roofline takes the larger of compute time and memory time") {
  // 2 GFLOP at 100 GFLOP/s = 20 ms; 400 MB at 10 GB/s = 40 ms: memory bound.
  const Roofline r = roofline(2e9, 4e8, 1e11, 1e10);
  CHECK(r.time_s == Approx(0.04));
  CHECK_FALSE(r.compute_bound);
  CHECK(r.arithmetic_intensity == Approx(5.0));
  // 1024^3 matmul: 2.147 GFLOP, 12.6 MB; at 200 GFLOP/s and 100 GB/s compute bound.
  const double n = 1024;
  const Roofline m = roofline(2 * n * n * n, 4 * 3 * n * n, 2e11, 1e11);
  CHECK(m.compute_bound);
  CHECK(m.time_s == Approx(2 * n * n * n / 2e11));
  CHECK(roofline_fraction(0.01, 0.02) == Approx(0.5));
  CHECK_THROWS(roofline(1, 1, 0, 1));
}
