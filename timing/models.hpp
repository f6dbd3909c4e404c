#pragma once
// The timing models every measurement is held against (shared/design/timing-models.md).
// Pure functions of measured or analytic numbers, so each can be checked by hand.
#include <functional>
#include <optional>
#include <span>
#include <vector>

namespace aigc::timing {

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

// 5. Distributed. Hockney's T = alpha + n beta for a message of n bytes (alpha: latency in s,
// beta: s per byte), fitted to a sweep of sizes, and the standard algorithms' costs from it.
struct Hockney {
  double alpha_s = 0;
  double beta_s_per_byte = 0;
  double time_s(double bytes) const { return alpha_s + bytes * beta_s_per_byte; }
};
struct MessageTime {
  double bytes;
  double time_s;
};
// Least squares on the relative error, sum ((alpha + n beta) / T - 1)^2: a sweep spans seven
// decades of time, and plain least squares would fit the largest messages only, leaving the
// small ones' latency to chance. Both parameters kept >= 0 (a negative latency fitted to noise
// is refitted through the origin, and the other way round). Nullopt under two distinct sizes.
std::optional<Hockney> fit_hockney(std::span<const MessageTime> sweep);

// One line rarely holds from 4 B to 256 MiB: the library changes protocol (eager copies,
// then rendezvous or single-copy) and the message leaves the caches. A piecewise model gives
// each regime, a range of consecutive sizes, its own alpha and beta: the fewest regimes (up to
// max_regimes, each of at least min_points sizes) whose fits are all within `within` of every
// measured time, else the max_regimes that come closest (the boundaries chosen to minimise the
// worst relative error). Sizes are in increasing order in the result; empty under min_points.
struct HockneyRegime {
  double min_bytes = 0, max_bytes = 0;  // the sizes it was fitted over
  Hockney fit;
};
std::vector<HockneyRegime> fit_hockney_regimes(std::span<const MessageTime> sweep,
                                               int max_regimes = 4, int min_points = 3,
                                               double within = 0.10);
// The regimes of a measured sweep as the suite fits them (the collectives' rows, a network for
// `aigcbench model`): up to 4, each of 3 sizes or more; a sweep of 2 sizes is one line.
std::vector<HockneyRegime> fit_measured_regimes(std::span<const MessageTime> sweep);
// The regime a size falls in: the one whose range holds it, else the nearest range's.
const Hockney& regime_for(const std::vector<HockneyRegime>& regimes, double bytes);

// The collectives measured, each with its textbook algorithm's cost on P ranks from the
// point-to-point alpha and beta (n: the bytes each rank holds after the operation):
//   ping-pong (one way) alpha + n beta; broadcast, binomial tree ceil(log2 P) (alpha + n beta);
//   ring allgather (P-1) alpha + (P-1)/P n beta; ring allreduce 2(P-1) alpha + 2(P-1)/P n beta.
enum class Collective { pingpong, broadcast, allgather, allreduce };
double collective_time(Collective op, const Hockney& p2p, double bytes, int ranks);
// The same with point-to-point regimes: the alpha and beta of the messages the algorithm sends
// (n / P bytes each in the rings, whole messages in the broadcast tree and ping-pong).
double collective_time(Collective op, const std::vector<HockneyRegime>& p2p, double bytes,
                       int ranks);
// One line for every size (a given network's alpha and beta).
std::vector<HockneyRegime> single_regime(const Hockney& h);

// The distributed model of a computation split over P ranks: T_wall = T_compute(1 rank) / P +
// T_comm, and its cost in node-time P * T_wall (the seed's T_single N P is this cost, not a
// wall time).
double distributed_wall_time(double t_compute_1rank_s, int ranks, double t_comm_s);
double distributed_cost(double t_wall_s, int ranks);

// One decode step of a tensor-parallel (Megatron) decoder on P ranks: an allreduce of the
// batch's activations (B x C fp32) after the vocabulary-split embedding and after each layer's
// attention and MLP (2 n_layer + 1 in all), and an allgather of the vocabulary-split logits
// (B x V fp32), each at its ring cost from the point-to-point alpha and beta.
struct TensorParallelTraffic {
  int n_layer = 0;
  double activation_bytes = 0;  // B C 4
  double logits_bytes = 0;      // B V 4
};
double tensor_parallel_comm_time(const TensorParallelTraffic& step,
                                 const std::vector<HockneyRegime>& p2p, int ranks);
// The same step with each collective's time of n bytes given (a measured allreduce's and
// allgather's own fits, say). A step without logits (logits_bytes 0) makes no allgather, and
// the allgather's time is not asked for.
double tensor_parallel_comm_time(const TensorParallelTraffic& step,
                                 const std::function<double(double)>& allreduce_s,
                                 const std::function<double(double)>& allgather_s);

// Strong scaling by the distributed model: the same step on P ranks.
struct ScalingPoint {
  int ranks = 1;
  double t_compute_s = 0;  // T_compute(1 rank) / P
  double t_comm_s = 0;
  double t_wall_s = 0;
  double speedup = 1;     // T_wall(1) / T_wall(P)
  double efficiency = 1;  // speedup / P
  double cost_s = 0;      // P T_wall: node-time
};
ScalingPoint scaling_point(double t_compute_1rank_s, int ranks, double t_comm_s);
// The smallest P (2 .. max_ranks) at which communication takes longer than the compute share,
// T_comm(P) > T_compute / P; nullopt where it never does up to max_ranks.
std::optional<int> communication_crossover(double t_compute_1rank_s,
                                           const TensorParallelTraffic& step,
                                           const std::vector<HockneyRegime>& p2p, int max_ranks);

}  // namespace aigc::timing
