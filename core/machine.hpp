#pragma once
// The machine and build fingerprint recorded in every results row, and the short hardware id
// that names results, probe caches and figure folders (the host name does not: every VM here
// is called `vm`, whatever CPU it runs on).
#include <string>

namespace aigc {

struct MachineInfo {
  std::string host;
  std::string cpu_vendor;  // /proc/cpuinfo vendor_id: "GenuineIntel", "AuthenticAMD", ...
  std::string cpu_model;   // model name: "AMD EPYC", "Intel(R) Xeon(R) Processor", ...
  int cpu_family = -1, cpu_model_number = -1;  // CPUID family and model (-1: not reported)
  int cores = 1;
  std::string compiler;
  std::string build_type;
};

const MachineInfo& machine_info();

// The parts of a hardware id; what the probe and the GPU query add to MachineInfo.
struct MachineIdParts {
  std::string cpu_vendor, cpu_model;
  int cpu_family = -1, cpu_model_number = -1, cores = 1;
  std::string simd_target;  // Highway's dispatched target ("AVX3", "AVX2", ...)
  std::string gpu_name;     // empty: no GPU
};

// A short lower-case id such as `intel-xeon-spr-2c-avx3` or `amd-epyc-zen3-2c-avx2`: vendor,
// brand, microarchitecture (from the CPUID family and model where known, else `f25m1`), core
// count, SIMD target, and the GPU's short name when there is one (`...-h100`). Only
// [a-z0-9-], so it is safe in file names.
std::string make_machine_id(const MachineIdParts& parts);
// `value` reduced to [a-z0-9-]: what AIGCBENCH_MACHINE passes through.
std::string sanitize_machine_id(const std::string& value);

// Memory this process could still allocate now, in bytes: the least of MemAvailable, what its
// cgroup's limit leaves (v2 memory.max - memory.current, or v1's limit - usage) and what
// `ulimit -v` (RLIMIT_AS) leaves of its address space; `source` says which of the three, for
// messages: "MemAvailable", "the cgroup limit", "ulimit -v".
struct AvailableMemory {
  double bytes = 0;
  std::string source;
};
AvailableMemory available_memory();
// What one case may use of it: three quarters, leaving a quarter for everything else (the
// process, the OS's caches). The one rule for require_memory and the run planner.
AvailableMemory spare_memory();
// Throws InsufficientMemory naming `what` and both sizes when `bytes` exceeds spare_memory().
void require_memory(double bytes, const std::string& what);

}  // namespace aigc
