// libFuzzer target: the probe cache reader on arbitrary text. It must return a probe whose
// figures are usable or refuse the text with InvalidArgument naming --probe-file.
#include <cstdint>
#include <string>

#include "core/errors.hpp"
#include "timing/probe.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const aigc::ProbeResult p = aigc::probe_from_json(text, "fuzz.json");
    // What a run asks of an accepted cache must not fail.
    (void)p.peak_flops(aigc::ComputeClass::simd_core, 1);
    (void)p.peak_flops(aigc::ComputeClass::scalar_core, 1);
    (void)p.peak_bytes_per_s(1e6, 1);
    (void)p.peak_bytes_per_s(1e12, 64);
  } catch (const aigc::InvalidArgument&) {
  }
  return 0;
}
