// The timing models on hand-computed cases (shared/design/timing-models.md).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <span>
#include <vector>

#include "timing/models.hpp"

using namespace aigc::timing;

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

TEST_CASE("Hockney's alpha and beta come back from exact times over a sweep of sizes") {
  const Hockney truth{2e-6, 1.0 / 10e9};  // 2 us, 10 GB/s
  std::vector<MessageTime> sweep;
  for (double n = 4; n <= 64.0 * (1 << 20); n *= 4) sweep.push_back({n, truth.time_s(n)});
  const auto fit = fit_hockney(sweep);
  REQUIRE(fit);
  CHECK(fit->alpha_s == Approx(2e-6).epsilon(1e-9));
  CHECK(fit->beta_s_per_byte == Approx(1e-10).epsilon(1e-9));
  CHECK(fit->time_s(1 << 20) == Approx(2e-6 + (1 << 20) * 1e-10));
}

TEST_CASE("Hockney's fit weighs each size by its own time, so small messages keep their latency") {
  // Latency-bound small sizes and bandwidth-bound large ones 10% off the same line: each end
  // keeps its own within a few percent (an absolute fit would weigh the 4 B times by 1e-9).
  std::vector<MessageTime> sweep;
  for (double n = 4; n <= 1024; n *= 4) sweep.push_back({n, 1e-6 + n * 1e-10});
  for (double n = 1 << 20; n <= (1 << 26); n *= 4) sweep.push_back({n, 1.1 * (1e-6 + n * 1e-10)});
  const auto fit = fit_hockney(sweep);
  REQUIRE(fit);
  for (const MessageTime& m : sweep) CHECK(fit->time_s(m.bytes) / m.time_s == Approx(1).margin(0.06));
}

TEST_CASE("Hockney's fit keeps both parameters non-negative and needs two sizes") {
  // Times that fall with size would need a negative beta: latency only, their mean scale.
  const std::vector<MessageTime> falling{{4, 2e-6}, {4096, 1e-6}};
  const auto flat = fit_hockney(falling);
  REQUIRE(flat);
  CHECK(flat->beta_s_per_byte == 0);
  CHECK(flat->alpha_s > 1e-6);
  CHECK(flat->alpha_s < 2e-6);
  // Pure bandwidth with noise that would give a negative latency.
  const std::vector<MessageTime> through_origin{{1000, 0.9e-6}, {2000, 2.1e-6}, {4000, 4e-6}};
  const auto bw = fit_hockney(through_origin);
  REQUIRE(bw);
  CHECK(bw->alpha_s == 0);
  CHECK(bw->beta_s_per_byte == Approx(1e-9).epsilon(0.1));
  const std::vector<MessageTime> one_size{{64, 1e-6}, {64, 1.2e-6}};
  CHECK_FALSE(fit_hockney(one_size));
  CHECK_FALSE(fit_hockney({}));
  const std::vector<MessageTime> zero_time{{4, 0.0}, {8, 1e-6}};
  CHECK_THROWS(fit_hockney(zero_time));
}

TEST_CASE("the collectives' textbook costs from the point-to-point alpha and beta") {
  const Hockney p2p{1e-6, 1e-9};  // 1 us, 1 GB/s
  const double n = 1e6;           // 1 ms of bandwidth
  CHECK(collective_time(Collective::pingpong, p2p, n, 2) == Approx(1e-6 + 1e-3));
  // Ring allreduce on 4 ranks: 2 * 3 alpha + 2 * 3/4 n beta.
  CHECK(collective_time(Collective::allreduce, p2p, n, 4) == Approx(6e-6 + 1.5e-3));
  CHECK(collective_time(Collective::allreduce, p2p, n, 2) == Approx(2e-6 + 1e-3));
  // Ring allgather on 4 ranks: 3 alpha + 3/4 n beta.
  CHECK(collective_time(Collective::allgather, p2p, n, 4) == Approx(3e-6 + 0.75e-3));
  // Binomial broadcast: ceil(log2 P) rounds of a whole message; 5 ranks take 3.
  CHECK(collective_time(Collective::broadcast, p2p, n, 4) == Approx(2 * (1e-6 + 1e-3)));
  CHECK(collective_time(Collective::broadcast, p2p, n, 5) == Approx(3 * (1e-6 + 1e-3)));
  // One rank moves nothing.
  CHECK(collective_time(Collective::allreduce, p2p, n, 1) == 0);
  CHECK_THROWS(collective_time(Collective::allreduce, p2p, n, 0));
}

TEST_CASE("the distributed model: compute split over P ranks plus communication, cost P T_wall") {
  // 80 ms of compute on one rank over 4 ranks with 5 ms of allreduces: 25 ms wall, 100 ms cost.
  CHECK(distributed_wall_time(0.08, 4, 0.005) == Approx(0.025));
  CHECK(distributed_cost(0.025, 4) == Approx(0.1));
  CHECK_THROWS(distributed_wall_time(0.08, 0, 0.0));
}

TEST_CASE("a tensor-parallel decode step's traffic: 2 L + 1 allreduces and one logits allgather") {
  // GPT-2 124M, one sequence: 12 layers, C = 768 (3 KiB), V = 50257 (196 KiB) on 2 ranks of a
  // 2 us, 12.5 GB/s (100 Gb/s) network.
  const TensorParallelTraffic step{12, 768 * 4.0, 50257 * 4.0};
  const auto net = single_regime(Hockney{2e-6, 8e-11});
  const double allreduce = 2 * 2e-6 + 768 * 4.0 * 8e-11;  // 2(P-1) a + 2(P-1)/P n b, P = 2
  const double allgather = 2e-6 + 0.5 * 50257 * 4.0 * 8e-11;
  CHECK(tensor_parallel_comm_time(step, net, 2) == Approx(25 * allreduce + allgather));
  CHECK(tensor_parallel_comm_time(step, net, 1) == 0);

  // 20 ms of compute a step on one rank: on 4 ranks 5 ms + comm; efficiency below 1.
  const ScalingPoint p4 = scaling_point(0.02, 4, tensor_parallel_comm_time(step, net, 4));
  CHECK(p4.t_compute_s == Approx(0.005));
  CHECK(p4.t_wall_s == Approx(0.005 + p4.t_comm_s));
  CHECK(p4.speedup == Approx(0.02 / p4.t_wall_s));
  CHECK(p4.efficiency == Approx(p4.speedup / 4));
  CHECK(p4.cost_s == Approx(4 * p4.t_wall_s));
  const ScalingPoint p1 = scaling_point(0.02, 1, 0.0);
  CHECK(p1.speedup == 1);
  CHECK(p1.efficiency == 1);

  // The crossover: the first P whose communication exceeds compute / P, and none when the
  // network is free.
  const auto cross = communication_crossover(0.02, step, net, 4096);
  REQUIRE(cross);
  CHECK(tensor_parallel_comm_time(step, net, *cross) > 0.02 / *cross);
  CHECK(tensor_parallel_comm_time(step, net, *cross - 1) <= 0.02 / (*cross - 1));
  CHECK_FALSE(communication_crossover(0.02, step, single_regime(Hockney{0, 0}), 4096));
  // With regimes, each message takes its own: the 1.5 KiB ring chunks of a 2-rank allreduce of
  // 3 KiB the small-message line, the 98 KiB logits chunks the large one.
  const std::vector<HockneyRegime> two{{4, 4096, Hockney{1e-6, 1e-9}},
                                       {16384, 1e9, Hockney{5e-6, 1e-10}}};
  CHECK(collective_time(Collective::allreduce, two, 3072, 2) ==
        Approx(collective_time(Collective::allreduce, Hockney{1e-6, 1e-9}, 3072, 2)));
  CHECK(collective_time(Collective::allgather, two, 50257 * 4.0, 2) ==
        Approx(collective_time(Collective::allgather, Hockney{5e-6, 1e-10}, 50257 * 4.0, 2)));
  CHECK(collective_time(Collective::broadcast, two, 8192, 4) ==
        Approx(collective_time(Collective::broadcast, Hockney{1e-6, 1e-9}, 8192, 4)));
}

TEST_CASE("Hockney's regimes: two protocols' lines are found, with the boundary between them") {
  // An eager protocol up to 4 KiB (0.5 us, 2 GB/s), then a rendezvous one (5 us, 8 GB/s).
  std::vector<MessageTime> sweep;
  for (double n = 4; n <= 4096; n *= 4) sweep.push_back({n, 0.5e-6 + n / 2e9});
  for (double n = 16384; n <= (1 << 24); n *= 4) sweep.push_back({n, 5e-6 + n / 8e9});
  // One line misses by far more than 10%.
  const auto one = fit_hockney(sweep);
  REQUIRE(one);
  double worst = 0;
  for (const MessageTime& m : sweep) worst = std::max(worst, std::abs(one->time_s(m.bytes) / m.time_s - 1));
  CHECK(worst > 0.3);
  const auto regimes = fit_hockney_regimes(sweep);
  REQUIRE(regimes.size() == 2);
  CHECK(regimes[0].min_bytes == 4);
  CHECK(regimes[0].max_bytes == 4096);
  CHECK(regimes[1].min_bytes == 16384);
  CHECK(regimes[0].fit.alpha_s == Approx(0.5e-6).epsilon(1e-6));
  CHECK(regimes[1].fit.beta_s_per_byte == Approx(1 / 8e9).epsilon(1e-6));
  CHECK(regime_for(regimes, 1024).alpha_s == Approx(0.5e-6).epsilon(1e-6));
  CHECK(regime_for(regimes, 1 << 20).alpha_s == Approx(5e-6).epsilon(1e-6));
  // Between the ranges, and beyond them: the nearest on a log scale.
  CHECK(regime_for(regimes, 5000).alpha_s == Approx(0.5e-6).epsilon(1e-6));
  CHECK(regime_for(regimes, 1e9).alpha_s == Approx(5e-6).epsilon(1e-6));
  // A single line within 10% stays one regime; too few points make none.
  std::vector<MessageTime> line;
  for (double n = 4; n <= 4096; n *= 4) line.push_back({n, 1e-6 + n * 1e-10});
  CHECK(fit_hockney_regimes(line).size() == 1);
  CHECK(fit_hockney_regimes(std::span(line).first(2)).empty());
  CHECK_THROWS(fit_hockney_regimes(line, 0));
}
