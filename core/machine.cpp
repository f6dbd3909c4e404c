#include "core/machine.hpp"

#include <unistd.h>

#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "core/errors.hpp"

#ifndef AIGCBENCH_BUILD_TYPE
#define AIGCBENCH_BUILD_TYPE "unknown"
#endif

namespace aigc {
namespace {

std::string read_cpu_model() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  }
  return "unknown";
}

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "unknown";
  return buf;
}

std::string compiler_id() {
#if defined(__clang__)
  return fmt::format("clang {}.{}.{}", __clang_major__, __clang_minor__, __clang_patchlevel__);
#elif defined(__GNUC__)
  return fmt::format("gcc {}.{}.{}", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
#else
  return "unknown";
#endif
}

}  // namespace

double available_memory_bytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  double kib = 0;
  while (meminfo >> key >> kib) {
    if (key == "MemAvailable:") return kib * 1024;
    meminfo.ignore(256, '\n');
  }
  return static_cast<double>(sysconf(_SC_AVPHYS_PAGES)) * sysconf(_SC_PAGESIZE);
}

void require_memory(double bytes, const std::string& what) {
  const double usable = 0.75 * available_memory_bytes();
  if (bytes > usable) {
    throw InsufficientMemory(
        fmt::format("{} needs {:.2f} GiB, more than the {:.2f} GiB this machine can spare", what,
                    bytes / (1ull << 30), usable / (1ull << 30)));
  }
}

const MachineInfo& machine_info() {
  static const MachineInfo info = [] {
    MachineInfo m;
    m.host = host_name();
    m.cpu_model = read_cpu_model();
    m.cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    m.compiler = compiler_id();
    m.build_type = AIGCBENCH_BUILD_TYPE;
    return m;
  }();
  return info;
}

}  // namespace aigc
