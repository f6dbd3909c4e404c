// libFuzzer target: every workload's shape parser on arbitrary text (what --shapes passes on).
// A shape is accepted, and then its counts and unit are computable and every derived shape's
// text round-trips, or refused with InvalidArgument.
#include <cstdint>
#include <string>

#include "core/errors.hpp"
#include "workloads/workload.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  for (const std::string& name : aigc::workload_names()) {
    const aigc::Workload& w = aigc::find_workload(name);
    try {
      const aigc::Shape shape = w.parse(text);
      (void)w.counts(shape);
      (void)w.ops(shape);
      (void)w.phase(shape);
      // A derived shape's text parses back to itself: what a results file holds is the shape.
      for (const aigc::Shape& derived : {shape, w.unit_shape(shape), w.with_ranks(shape, 1)}) {
        if (w.parse(derived.text()).text() != derived.text()) __builtin_trap();
      }
    } catch (const aigc::InvalidArgument&) {
    }
  }
  return 0;
}
