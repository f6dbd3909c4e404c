#pragma once
// The machine and build fingerprint recorded in every results row.
#include <string>

namespace aigc {

struct MachineInfo {
  std::string host;
  std::string cpu_model;
  int cores = 1;
  std::string compiler;
  std::string build_type;
};

const MachineInfo& machine_info();

// Memory the OS could give this process now (MemAvailable), in bytes.
double available_memory_bytes();
// Throws InsufficientMemory naming `what` and both sizes when `bytes` exceeds what is
// available now (leaving a quarter of it for everything else).
void require_memory(double bytes, const std::string& what);

}  // namespace aigc
