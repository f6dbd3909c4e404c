// libFuzzer target: every workload's shape parser on arbitrary text (what --shapes passes on).
// A shape is accepted, and then its counts and unit are computable, or refused with
// InvalidArgument.
#include <cstdint>
#include <string>

#include "core/errors.hpp"
#include "workloads/workload.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  for (const std::string& name : aigc::workload_names()) {
    const aigc::Workload& w = aigc::find_workload(name);
    try {
      const std::string shape = w.canonical_shape(text);
      (void)w.counts(shape);
      (void)w.ops(shape);
      (void)w.phase(shape);
      (void)w.canonical_shape(w.unit_shape(shape));
      (void)w.canonical_shape(w.with_ranks(shape, 1));
    } catch (const aigc::InvalidArgument&) {
    }
  }
  return 0;
}
