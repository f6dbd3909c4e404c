#include "measure/measure.hpp"

#include "core/energy.hpp"
#include "core/errors.hpp"

namespace aigc {

Measurement unmeasured(const BenchSpec& spec, std::string status) {
  const BackendDescriptor& d = *spec.backend;
  return Measurement{
      .workload = spec.workload,
      .shape = spec.shape,
      .backend = spec.backend,
      .simd_target = d.simd_target(),
      .dtype = spec.dtype,
      .threads = spec.threads,
      .counts = spec.counts,
      .status = std::move(status)};
}

std::string failure_status(const std::exception& e) {
  const bool skip = dynamic_cast<const UnsupportedOp*>(&e) != nullptr ||
                    dynamic_cast<const InsufficientMemory*>(&e) != nullptr;
  return std::string(skip ? "skipped: " : "error: ") + e.what();
}

Measurement measure(const BenchSpec& spec, const TimingPolicy& timing, std::string* fault) {
  Measurement m = unmeasured(spec, "ok");
  try {
    if (spec.not_runnable) {
      m.status = "skipped: " + *spec.not_runnable;
      return m;
    }
    ReadyCase ready = make_ready_case(spec);
    m.max_rel_error = ready.max_rel_error;
    m.tolerance = ready.tolerance;
    const bool on_gpu = spec.backend->compute_class == ComputeClass::gpu;
    if (on_gpu) {
      m.upload_s = ready.upload_s;
      m.download_s = ready.download_s;
    }
    std::string error;
    m.times_s = time_ready_case(spec, ready, timing, error, &m.energy_j);
    if (!m.energy_j.empty())
      m.energy_source = energy_description(on_gpu);
    if (!error.empty()) m.status = "error: " + error;
  } catch (const DeviceFault& e) {
    m.status = failure_status(e);
    if (fault != nullptr) *fault = e.what();
  } catch (const std::exception& e) {
    m.status = failure_status(e);
  }
  return m;
}

}  // namespace aigc
