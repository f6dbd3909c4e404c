#include "driver/tensor_parallel_rows.hpp"

#include <cmath>
#include <functional>
#include <iostream>
#include <limits>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "core/errors.hpp"
#include "core/stats.hpp"
#include "distributed/communicator.hpp"
#include "kernels/registry.hpp"
#include "measure/measure.hpp"

namespace aigc {
namespace {

// Whether `failed` on any rank: every rank learns it.
bool on_any_rank(bool failed) { return dist::max_over_ranks(failed ? 1.0 : 0.0) > 0; }

// Rank 0's status for a step that failed somewhere: its own reason, or that another rank's
// (which that rank printed).
std::string agreed_status(const std::string& mine, const std::string& what) {
  return !mine.empty() ? mine
                       : fmt::format("error: another rank failed to {} (see its stderr)", what);
}

// One configuration on every rank: built, verified, timed in step.
Measurement measure_on_every_rank(const BenchSpec& spec, const TimingPolicy& timing) {
  Measurement m = unmeasured(spec, "ok");
  m.ranks = dist::world_size();
  // Skipped (a backend without an op, not enough memory) where any rank would skip it.
  const auto& why = spec.not_runnable;
  if (on_any_rank(why.has_value())) {
    m.status = why ? "skipped: " + *why : "skipped: another rank cannot run it";
    return m;
  }
  // Built on every rank before anything passes between them, so a failure is agreed on.
  std::unique_ptr<Backend> backend;
  std::unique_ptr<WorkloadCase> work;
  std::string failure;
  try {
    backend = spec.backend->make();
    backend->set_threads(spec.threads);
    work = spec.workload->make_case(*backend, spec.shape);
  } catch (const std::exception& e) {
    failure = failure_status(e);
    if (failure.rfind("error", 0) == 0) {  // a skip's reason is rank 0's to give
      fmt::print(std::cerr, "aigcbench: rank {}: {}: {}\n", dist::world_rank(),
                 benchmark_name(spec), failure);
    }
  }
  if (on_any_rank(!failure.empty())) {
    m.status = agreed_status(failure, "build its share");
    return m;
  }
  // From here the ranks exchange activations inside every forward: one failing alone would
  // leave the others in a collective for ever, so a failure ends the world with its message.
  try {
    const double error = work->verify();
    m.max_rel_error =
        dist::max_over_ranks(std::isnan(error) ? std::numeric_limits<double>::infinity() : error);
    m.tolerance = work->tolerance();
    if (!(*m.max_rel_error <= *m.tolerance)) {
      m.status = "error: " + verification_failure(*m.max_rel_error, *m.tolerance);
      return m;
    }
    // Every rank takes the same branch: the communication is timed on all ranks or none.
    const bool timed = work->communication_s().has_value();
    std::function<double()> counter;
    if (timed) counter = [&] { return *work->communication_s(); };
    const dist::BurstTimes bursts = dist::time_bursts(
        [&] {
          work->run();
          backend->synchronize();
        },
        timing.repetitions, timing.min_time_s, counter);
    m.times_s = bursts.times_s;
    if (timed) m.comm_s = bursts.counter_per_step;
  } catch (const std::exception& e) {
    fmt::print(std::cerr, "aigcbench: rank {}: {}: error: {}\n", dist::world_rank(),
               benchmark_name(spec), e.what());
    std::cerr.flush();
    dist::abort_world(1);
  }
  return m;
}

}  // namespace

std::vector<Measurement> measure_tensor_parallel(const std::vector<BenchSpec>& specs,
                                                 const TimingPolicy& timing, std::ostream& out) {
  std::vector<Measurement> measurements;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const BenchSpec& spec = specs[i];
    Measurement m = measure_on_every_rank(spec, timing);
    // T_compute(1 rank): the same shape in one process, rank 0 alone while the others sleep.
    if (dist::is_root() && m.status == "ok") {
      const BenchSpec one = plan_spec(*spec.workload, spec.workload->with_ranks(spec.shape, 1),
                                      *spec.backend, spec.threads);
      const Measurement alone = measure(one, timing);
      if (alone.status == "ok") m.one_rank_s = summarize(alone.times_s).median;
      fmt::print(
          out, "[{}/{}] {}/ranks:{}: {}; one rank alone: {}\n", i + 1, specs.size(),
          benchmark_name(spec), m.ranks,
          m.comm_s.empty()
              ? fmt::format("{:.4g} ms", 1e3 * summarize(m.times_s).median)
              : fmt::format("{:.4g} ms ({:.3g} ms communicating)",
                            1e3 * summarize(m.times_s).median, 1e3 * summarize(m.comm_s).median),
          alone.status == "ok" ? fmt::format("{:.4g} ms", 1e3 * *m.one_rank_s) : alone.status);
    } else if (dist::is_root()) {
      fmt::print(out, "[{}/{}] {}/ranks:{}: {}\n", i + 1, specs.size(), benchmark_name(spec),
                 m.ranks, m.status);
    }
    out.flush();
    dist::idle_barrier();
    measurements.push_back(std::move(m));
  }
  return measurements;
}

}  // namespace aigc
