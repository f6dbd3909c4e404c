#pragma once
// The timing models applied to one run's measurements: serial (T_single x N), parallel
// (speedup, efficiency, Karp-Flatt over the same configuration at 1 thread), accelerated
// (S_pred from the roofline of one scalar core against the backend's), roofline (the probe's
// ceilings), the weight format against its f32 twin, batching's knee, energy. Pure functions of
// the measurements and the probe.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "driver/results_csv.hpp"
#include "measure/measurement.hpp"
#include "timing/probe.hpp"

namespace aigc {

// What the serial model knows about one shape: T_single of one unit on scalar.
struct SerialBaseline {
  std::optional<double> t_single_s;
  long long n_units = 1;
};

// The key of a (workload, shape) in the baselines' map: "<workload>|<shape text>".
std::string baseline_key(const Workload& workload, const Shape& shape);

// The CSV rows of a run's measurements (the machine's columns left to the caller).
std::vector<ResultRow> apply_models(const std::vector<Measurement>& measurements,
                                    const std::map<std::string, SerialBaseline>& baselines,
                                    const ProbeResult& probe);

}  // namespace aigc
