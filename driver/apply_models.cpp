#include "driver/apply_models.hpp"

#include <fmt/format.h>

#include "core/stats.hpp"
#include "driver/results_schema.hpp"
#include "timing/models.hpp"

namespace aigc {
namespace {

// Medians of the run's measured configurations, for the baseline, T1 and twin look-ups.
class Medians {
 public:
  explicit Medians(const std::vector<Measurement>& measurements) {
    for (const Measurement& m : measurements) {
      if (!m.times_s.empty() && m.status == "ok")
        of_[key(*m.workload, m.shape, m.backend->name, m.threads)] = summarize(m.times_s).median;
    }
  }
  std::optional<double> find(const Measurement& m, const Shape& shape, const std::string& backend,
                             int threads) const {
    const auto it = of_.find(key(*m.workload, shape, backend, threads));
    return it == of_.end() ? std::nullopt : std::optional(it->second);
  }

 private:
  static std::string key(const Workload& w, const Shape& shape, const std::string& backend,
                         int threads) {
    return fmt::format("{}|{}|{}|{}", w.name(), shape.text(), backend, threads);
  }
  std::map<std::string, double> of_;
};

double working_set(const WorkCounts& c) { return c.working_set > 0 ? c.working_set : c.bytes; }

// The ceilings a row's hardware has: its compute class at its cores (threads x ranks).
struct Ceilings {
  const ProbeResult& probe;
  ComputeClass cls;
  int cores;
  double bandwidth(const WorkCounts& c) const {
    return cls == ComputeClass::gpu ? probe.gpu_bytes_per_s()
                                    : probe.peak_bytes_per_s(working_set(c), cores);
  }
  bool known() const { return cls != ComputeClass::gpu || probe.gpu.has_value(); }
};

// B*: the batch at which the roofline's compute time B f / F meets its bandwidth time
// (W + B k) / BW, with f and k one sequence's FLOPs and bytes per run and W what a run reads
// once for all its sequences (the weights), read off the counts at batch 1 and 2. None where
// compute never catches up (f / F <= k / BW: each sequence's cache costs more time than its
// arithmetic).
std::optional<double> knee_batch(const Workload& w, const Shape& shape, double peak_flops,
                                 double peak_bytes_per_s) {
  const WorkCounts one = w.counts(w.with_batch(shape, 1)), two = w.counts(w.with_batch(shape, 2));
  const double f = two.flops - one.flops, k = two.bytes - one.bytes, weights = one.bytes - k;
  const double per_sequence = f / peak_flops - k / peak_bytes_per_s;
  if (!(per_sequence > 0) || !(weights > 0)) return std::nullopt;
  return (weights / peak_bytes_per_s) / per_sequence;
}

// What the row is, as measured: identity, verification, counts.
ResultRow row_of(const Measurement& m) {
  ResultRow r;
  r.workload = m.workload->name();
  r.shape = m.shape.text();
  r.phase = m.workload->phase(m.shape);
  if (m.status == "ok") r.repetition_times_s = m.times_s;
  r.backend = m.backend->name;
  r.dtype = m.dtype;
  r.threads = m.threads;
  r.ranks = m.ranks;
  r.simd_target = m.simd_target;
  r.status = m.status;
  r.max_rel_error = m.max_rel_error;
  r.error_tolerance = m.tolerance;
  r.upload_s = m.upload_s;
  r.download_s = m.download_s;
  r.flops = m.counts.flops;
  r.bytes = m.counts.bytes;
  r.arithmetic_intensity = m.counts.flops / m.counts.bytes;
  r.n_units = m.counts.n_units;
  return r;
}

// Serial model: T_serial = T_single * N, and the scalar baseline it may stand in for.
void add_serial_model(ResultRow& r, const Measurement& m,
                      const std::map<std::string, SerialBaseline>& baselines,
                      const Medians& medians) {
  const auto base = baselines.find(baseline_key(*m.workload, m.shape));
  if (base != baselines.end() && base->second.t_single_s) {
    r.t_single_s = base->second.t_single_s;
    r.t_serial_model_s = timing::serial_time(*r.t_single_s, m.counts.n_units);
  }
  if (const auto scalar = medians.find(m, m.shape, "scalar", 1)) {
    r.baseline_time_s = scalar;
    r.baseline_source = "measured";
  } else if (r.t_serial_model_s) {
    r.baseline_time_s = r.t_serial_model_s;
    r.baseline_source = "serial_model";
  }
}

// Roofline of the row's hardware, and S_pred against the baseline hardware's (one scalar core).
void add_roofline(ResultRow& r, const Measurement& m, const Ceilings& at) {
  const ProbeResult& probe = at.probe;
  const auto roof_scalar = timing::roofline(m.counts.flops, m.counts.bytes,
                                            probe.peak_flops(ComputeClass::scalar_core, 1),
                                            probe.peak_bytes_per_s(working_set(m.counts), 1));
  if (!at.known()) return;
  r.peak_flops = probe.peak_flops(at.cls, at.cores, m.dtype);
  r.peak_bytes_per_s = at.bandwidth(m.counts);
  const auto roof =
      timing::roofline(m.counts.flops, m.counts.bytes, *r.peak_flops, *r.peak_bytes_per_s);
  r.t_roofline_s = roof.time_s;
  r.bound = roof.compute_bound ? "compute" : "memory";
  r.predicted_speedup = timing::predicted_acceleration(roof_scalar.time_s, roof.time_s);
}

// Batched decoding: the batch, and where its roofline turns from bandwidth to compute.
void add_batch(ResultRow& r, const Measurement& m) {
  if (!r.phase.empty()) r.batch = m.workload->batch(m.shape);
  if (r.phase == "decode" && r.peak_flops && r.peak_bytes_per_s)
    r.knee_batch = knee_batch(*m.workload, m.shape, *r.peak_flops, *r.peak_bytes_per_s);
}

// The parallel model against the same configuration at 1 thread, and the measured speedups.
void add_speedups(ResultRow& r, const Measurement& m, double median, const Medians& medians) {
  if (r.baseline_time_s) {
    r.speedup_vs_scalar = timing::measured_acceleration(*r.baseline_time_s, median);
    if (r.predicted_speedup)
      r.captured_speedup_fraction = *r.speedup_vs_scalar / *r.predicted_speedup;
  }
  if (m.backend->name == "scalar" && m.threads == 1 && r.t_serial_model_s)
    r.serial_model_error = timing::serial_model_error(median, *r.t_serial_model_s);
  if (const auto t1 = medians.find(m, m.shape, m.backend->name, 1)) {
    r.t1_s = t1;
    r.parallel_speedup = timing::parallel_speedup(*t1, median);
    r.parallel_efficiency = timing::parallel_efficiency(*t1, median, m.threads);
    if (const auto kf = timing::karp_flatt(*r.parallel_speedup, m.threads)) r.karp_flatt = *kf;
  }
  if (r.t_roofline_s) r.roofline_fraction = timing::roofline_fraction(*r.t_roofline_s, median);
}

// Energy of one operation (median over the repetitions), its mean power over that repetition's
// time, and the efficiencies a buyer compares.
void add_energy(ResultRow& r, const Measurement& m) {
  if (m.energy_j.size() != m.times_s.size()) return;
  std::vector<double> watts;
  for (std::size_t i = 0; i < m.energy_j.size(); ++i) watts.push_back(m.energy_j[i] / m.times_s[i]);
  r.energy_j = summarize(m.energy_j).median;
  r.avg_power_w = summarize(watts).median;
  r.energy_source = m.energy_source;
  if (*r.energy_j > 0) {
    r.flop_per_joule = m.counts.flops / *r.energy_j;
    if (m.counts.tokens > 0) r.joules_per_token = *r.energy_j / double(m.counts.tokens);
  }
}

// A stored weight format against the same shape in fp32, same backend and threads: the
// accelerated model with the format as the optimization. S_pred is the ratio of the two roofline
// times on the same ceilings (the ratio of bytes where both are memory-bound, as a decode step
// is).
void add_format_twin(ResultRow& r, const Measurement& m, double median, const Medians& medians,
                     const Ceilings& at) {
  const Workload& w = *m.workload;
  if (w.stored_dtype(m.shape).empty()) return;
  const Shape twin = w.with_f32_weights(m.shape);
  if (const auto t = medians.find(m, twin, m.backend->name, m.threads))
    r.format_speedup = *t / median;
  if (r.peak_flops && r.peak_bytes_per_s) {
    const WorkCounts c = w.counts(twin);
    const auto twin_roof = timing::roofline(c.flops, c.bytes, *r.peak_flops, at.bandwidth(c));
    r.format_speedup_pred = timing::predicted_acceleration(twin_roof.time_s, *r.t_roofline_s);
  }
}

// The columns of a row with a time.
void add_timed_columns(ResultRow& r, const Measurement& m, const Medians& medians,
                       const Ceilings& at) {
  const SampleStats st = summarize(m.times_s);
  set_time_columns(r, st);
  // On ranks: the communication inside, and the same shape on one rank alone.
  if (!m.comm_s.empty()) r.t_comm_s = summarize(m.comm_s).median;
  if (m.one_rank_s) {
    r.t_one_rank_s = m.one_rank_s;
    r.distributed_efficiency = *m.one_rank_s / (m.ranks * st.median);
  }
  if (m.counts.tokens > 0) r.tokens_per_s = double(m.counts.tokens) / st.median;
  add_speedups(r, m, st.median, medians);
  add_energy(r, m);
  if (r.phase == "decode" && m.counts.tokens > 0) {
    r.ms_per_token = 1e3 * st.median * double(m.workload->batch(m.shape)) / double(m.counts.tokens);
  }
  add_format_twin(r, m, st.median, medians, at);
}

}  // namespace

std::string baseline_key(const Workload& workload, const Shape& shape) {
  return workload.name() + "|" + shape.text();
}

std::vector<ResultRow> apply_models(const std::vector<Measurement>& measurements,
                                    const std::map<std::string, SerialBaseline>& baselines,
                                    const ProbeResult& probe) {
  const Medians medians(measurements);
  std::vector<ResultRow> rows;
  for (const Measurement& m : measurements) {
    ResultRow r = row_of(m);
    // The ceilings of the row's hardware (the backend's class), at its cores: threads x ranks.
    const Ceilings at{probe, m.backend->compute_class, m.threads * m.ranks};
    add_serial_model(r, m, baselines, medians);
    add_roofline(r, m, at);
    add_batch(r, m);
    if (!m.times_s.empty() && m.status == "ok") add_timed_columns(r, m, medians, at);
    rows.push_back(std::move(r));
  }
  return rows;
}

}  // namespace aigc
