#pragma once
// Energy counters read around a timed region: the CPU packages' energy from RAPL (Linux
// powercap, /sys/class/powercap/intel-rapl:N/energy_uj; AMD's RAPL shows up there too) and a
// GPU's total energy from NVML (libnvidia-ml loaded at run time, so the build needs no driver).
// Both are free-running counters: a reading is the energy since the counter was opened, so the
// energy of a region is the difference of two readings.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace aigc {

class EnergyCounter {
 public:
  virtual ~EnergyCounter() = default;
  // Joules since the counter was opened (monotonic; a wrapped hardware counter is unwrapped).
  virtual double joules() = 0;
  // What it reads, for the results' energy_source column: "rapl:package-0+package-1", "nvml:0".
  virtual const std::string& source() const = 0;
};

// The package domains under `powercap_root` (top-level "intel-rapl:N" zones; their subzones,
// core and dram, are parts of the package and would count twice). Null, with `why_not` set,
// when there is none readable (VMs expose none; reading energy_uj may need root). Each zone's
// raw counter wraps at its max_energy_range_uj: a reading below the previous one has wrapped
// once (a region must be shorter than one wrap: minutes at full power).
std::unique_ptr<EnergyCounter> open_rapl(const std::string& powercap_root, std::string& why_not);

// NVML's total energy of GPU `device` (millijoules since the driver loaded; Volta and later).
// Null, with `why_not` set, without the library, a device, or the counter.
std::unique_ptr<EnergyCounter> open_nvml(int device, std::string& why_not);

// The process's counter for the hardware a backend runs on, opened on first use: RAPL for the
// CPU backends (/sys/class/powercap, or AIGCBENCH_POWERCAP_ROOT), NVML device 0 for the GPU
// ones (`gpu`). Null where nothing can be read.
EnergyCounter* energy_counter(bool gpu);
// What energy_counter(gpu) reads ("rapl:package-0"), or "not measured: <why>".
std::string energy_description(bool gpu);

}  // namespace aigc
