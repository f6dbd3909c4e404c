#include "core/machine.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <cctype>
#include <fstream>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/errors.hpp"

#ifndef AIGCBENCH_BUILD_TYPE
#define AIGCBENCH_BUILD_TYPE "unknown"
#endif

namespace aigc {
namespace {

// The value of the first "key : value" line of /proc/cpuinfo whose key is `key`.
std::string cpuinfo_field(const std::string& key) {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string k = line.substr(0, colon);
    k.erase(k.find_last_not_of(" \t") + 1);
    if (k != key) continue;
    const auto start = line.find_first_not_of(" \t", colon + 1);
    return start == std::string::npos ? "" : line.substr(start);
  }
  return "";
}

int cpuinfo_int(const std::string& key) {
  const std::string v = cpuinfo_field(key);
  if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::stoi(v);
}

// Microarchitectures by CPUID (vendor, family, model range) for the server parts this suite
// meets; anything else is named by its numbers.
struct Uarch {
  const char* vendor;
  int family, model_lo, model_hi;
  const char* name;
};
constexpr Uarch kUarchs[] = {
    {"intel", 6, 85, 85, "skx"},    {"intel", 6, 106, 106, "icx"}, {"intel", 6, 143, 143, "spr"},
    {"intel", 6, 207, 207, "emr"},  {"intel", 6, 173, 174, "gnr"}, {"amd", 23, 0, 255, "zen2"},
    {"amd", 25, 0, 15, "zen3"},     {"amd", 25, 16, 31, "zen4"},   {"amd", 25, 96, 127, "zen4"},
    {"amd", 25, 160, 175, "zen4c"}, {"amd", 26, 0, 255, "zen5"},
};

std::string vendor_short(const std::string& vendor_id) {
  if (vendor_id == "GenuineIntel") return "intel";
  if (vendor_id == "AuthenticAMD") return "amd";
  return sanitize_machine_id(vendor_id.empty() ? "cpu" : vendor_id);
}

// The brand word after the vendor in the model name ("xeon", "epyc", "core"), if any.
std::string brand_of(const std::string& model_name, const std::string& vendor) {
  std::string words = sanitize_machine_id(model_name);
  for (const std::string drop : {"intel-r-", "intel-", "amd-", "r-"}) {
    if (words.rfind(drop, 0) == 0) words = words.substr(drop.size());
  }
  const std::string first = words.substr(0, words.find('-'));
  if (first.empty() || first == vendor || first == "processor" || first == "cpu") return "";
  return first;
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

std::string sanitize_machine_id(const std::string& value) {
  std::string out;
  for (const char ch : value) {
    const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    const bool keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (keep) {
      out += c;
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

std::string make_machine_id(const MachineIdParts& p) {
  const std::string vendor = vendor_short(p.cpu_vendor);
  std::vector<std::string> parts{vendor};
  if (std::string brand = brand_of(p.cpu_model, vendor); !brand.empty()) parts.push_back(brand);
  std::string uarch;
  for (const Uarch& u : kUarchs) {
    if (vendor == u.vendor && p.cpu_family == u.family && p.cpu_model_number >= u.model_lo &&
        p.cpu_model_number <= u.model_hi) {
      uarch = u.name;
      break;
    }
  }
  if (uarch.empty() && p.cpu_family >= 0)
    uarch = fmt::format("f{}m{}", p.cpu_family, p.cpu_model_number);
  if (!uarch.empty()) parts.push_back(uarch);
  parts.push_back(fmt::format("{}c", p.cores));
  if (!p.simd_target.empty() && p.simd_target != "none") parts.push_back(p.simd_target);
  if (!p.gpu_name.empty()) {
    // "NVIDIA H100 80GB HBM3" -> "h100": the model word after the vendor.
    std::string gpu = sanitize_machine_id(p.gpu_name);
    for (const std::string drop : {"nvidia-", "geforce-", "tesla-"}) {
      if (gpu.rfind(drop, 0) == 0) gpu = gpu.substr(drop.size());
    }
    parts.push_back(gpu.substr(0, gpu.find('-')));
  }
  return sanitize_machine_id(fmt::format("{}", fmt::join(parts, "-")));
}

namespace {

double read_number(const char* path) {
  std::ifstream in(path);
  std::string text;
  if (!(in >> text) || text == "max") return -1;
  try {
    return std::stod(text);
  } catch (const std::exception&) {
    return -1;
  }
}

}  // namespace

AvailableMemory available_memory() {
  AvailableMemory least{static_cast<double>(sysconf(_SC_AVPHYS_PAGES)) * sysconf(_SC_PAGESIZE),
                        "MemAvailable"};
  {
    std::ifstream meminfo("/proc/meminfo");
    std::string key;
    double kib = 0;
    while (meminfo >> key >> kib) {
      if (key == "MemAvailable:") {
        least.bytes = kib * 1024;
        break;
      }
      meminfo.ignore(256, '\n');
    }
  }
  // cgroup v2, then v1 (a v1 "no limit" is a huge number, which never wins).
  double limit = read_number("/sys/fs/cgroup/memory.max");
  double used = read_number("/sys/fs/cgroup/memory.current");
  if (limit < 0) {
    limit = read_number("/sys/fs/cgroup/memory/memory.limit_in_bytes");
    used = read_number("/sys/fs/cgroup/memory/memory.usage_in_bytes");
  }
  if (limit > 0 && used >= 0 && limit - used < least.bytes)
    least = {limit - used, "the cgroup limit"};
  // ulimit -v caps the address space, of which this process already uses VmSize.
  rlimit as{};
  if (getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY) {
    std::ifstream statm("/proc/self/statm");
    double pages = 0;
    statm >> pages;
    const double left = double(as.rlim_cur) - pages * double(sysconf(_SC_PAGESIZE));
    if (left < least.bytes) least = {left, "ulimit -v"};
  }
  if (least.bytes < 0) least.bytes = 0;
  return least;
}

AvailableMemory spare_memory() {
  AvailableMemory m = available_memory();
  m.bytes *= 0.75;
  return m;
}

void require_memory(double bytes, const std::string& what) {
  const AvailableMemory spare = spare_memory();
  if (bytes > spare.bytes) {
    throw InsufficientMemory(
        fmt::format("{} needs {:.2f} GiB, more than the {:.2f} GiB this machine can spare ({})",
                    what, bytes / (1ull << 30), spare.bytes / (1ull << 30), spare.source));
  }
}

const MachineInfo& machine_info() {
  static const MachineInfo info = [] {
    MachineInfo m;
    m.host = host_name();
    m.cpu_vendor = cpuinfo_field("vendor_id");
    m.cpu_model = cpuinfo_field("model name");
    if (m.cpu_model.empty()) m.cpu_model = "unknown";
    m.cpu_family = cpuinfo_int("cpu family");
    m.cpu_model_number = cpuinfo_int("model");
    m.cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    m.compiler = compiler_id();
    m.build_type = AIGCBENCH_BUILD_TYPE;
    return m;
  }();
  return info;
}

}  // namespace aigc
