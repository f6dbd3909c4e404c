#include "core/energy.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

namespace aigc {
namespace {

namespace fs = std::filesystem;

bool read_number(const fs::path& file, std::uint64_t& value) {
  std::ifstream in(file);
  return static_cast<bool>(in >> value);
}

std::string read_word(const fs::path& file) {
  std::ifstream in(file);
  std::string word;
  in >> word;
  return word;
}

class RaplCounter final : public EnergyCounter {
 public:
  struct Zone {
    fs::path energy_file;
    std::uint64_t range_uj = 0;  // the raw counter counts 0 .. range_uj, then starts again
    std::uint64_t last_uj = 0;
    double total_j = 0;
  };
  RaplCounter(std::vector<Zone> zones, std::string source)
      : zones_(std::move(zones)), source_(std::move(source)) {}

  double joules() override {
    double sum = 0;
    for (Zone& z : zones_) {
      std::uint64_t now = z.last_uj;
      if (read_number(z.energy_file, now)) {
        const std::uint64_t delta =
            now >= z.last_uj ? now - z.last_uj : now + (z.range_uj - z.last_uj);
        z.total_j += static_cast<double>(delta) * 1e-6;
        z.last_uj = now;
      }
      sum += z.total_j;
    }
    return sum;
  }
  const std::string& source() const override { return source_; }

 private:
  std::vector<Zone> zones_;
  std::string source_;
};

// NVML's C API, declared here (the build may have no nvml.h and no driver): the calls used,
// with the types they take (nvmlReturn_t is an int enum, nvmlDevice_t an opaque pointer).
using NvmlInit = int (*)();
using NvmlGetHandle = int (*)(unsigned int, void**);
using NvmlTotalEnergy = int (*)(void*, unsigned long long*);

class NvmlCounter final : public EnergyCounter {
 public:
  NvmlCounter(NvmlTotalEnergy read, void* device, unsigned long long first_mj, std::string source)
      : read_(read),
        device_(device),
        first_mj_(first_mj),
        last_mj_(first_mj),
        source_(std::move(source)) {}
  double joules() override {
    unsigned long long now = first_mj_;
    if (read_(device_, &now) == 0) last_mj_ = now;
    return static_cast<double>(last_mj_ - first_mj_) * 1e-3;
  }
  const std::string& source() const override { return source_; }

 private:
  NvmlTotalEnergy read_;
  void* device_;
  unsigned long long first_mj_, last_mj_;
  std::string source_;
};

}  // namespace

std::unique_ptr<EnergyCounter> open_rapl(const std::string& powercap_root, std::string& why_not) {
  std::error_code ec;
  std::vector<fs::path> dirs;
  for (const auto& entry : fs::directory_iterator(powercap_root, ec)) {
    const std::string name = entry.path().filename().string();
    // "intel-rapl:0" is a package; "intel-rapl:0:1" a subzone of it.
    if (name.rfind("intel-rapl:", 0) == 0 && name.find(':', 11) == std::string::npos) {
      dirs.push_back(entry.path());
    }
  }
  if (ec || dirs.empty()) {
    why_not = fmt::format(
        "no RAPL package zone under {} (this machine, a VM most likely, does "
        "not expose the CPU's energy counters)",
        powercap_root);
    return nullptr;
  }
  std::sort(dirs.begin(), dirs.end());
  std::vector<RaplCounter::Zone> zones;
  std::string source = "rapl:";
  for (const fs::path& dir : dirs) {
    RaplCounter::Zone z{.energy_file = dir / "energy_uj"};
    if (!read_number(z.energy_file, z.last_uj) ||
        !read_number(dir / "max_energy_range_uj", z.range_uj)) {
      why_not = fmt::format(
          "{} is not readable (reading RAPL energy needs root on recent "
          "kernels)",
          z.energy_file.string());
      return nullptr;
    }
    const std::string name = read_word(dir / "name");
    source += (zones.empty() ? "" : "+") + (name.empty() ? dir.filename().string() : name);
    zones.push_back(z);
  }
  return std::make_unique<RaplCounter>(std::move(zones), std::move(source));
}

std::unique_ptr<EnergyCounter> open_nvml(int device, std::string& why_not) {
  void* lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    why_not = "no NVIDIA driver library (libnvidia-ml.so.1) to read the GPU's energy";
    return nullptr;
  }
  // The library stays loaded for the process: the counter calls into it until exit.
  const auto init = reinterpret_cast<NvmlInit>(dlsym(lib, "nvmlInit_v2"));
  const auto handle = reinterpret_cast<NvmlGetHandle>(dlsym(lib, "nvmlDeviceGetHandleByIndex_v2"));
  const auto energy =
      reinterpret_cast<NvmlTotalEnergy>(dlsym(lib, "nvmlDeviceGetTotalEnergyConsumption"));
  if (init == nullptr || handle == nullptr || energy == nullptr) {
    why_not = "libnvidia-ml.so.1 lacks nvmlDeviceGetTotalEnergyConsumption";
    return nullptr;
  }
  void* dev = nullptr;
  unsigned long long first = 0;
  if (init() != 0 || handle(static_cast<unsigned int>(device), &dev) != 0) {
    why_not = fmt::format("NVML found no GPU {}", device);
    return nullptr;
  }
  if (energy(dev, &first) != 0) {
    why_not = fmt::format("GPU {} has no total-energy counter (NVML: Volta or later)", device);
    return nullptr;
  }
  return std::make_unique<NvmlCounter>(energy, dev, first, fmt::format("nvml:{}", device));
}

namespace {

struct Opened {
  std::unique_ptr<EnergyCounter> counter;
  std::string why_not;
};

const Opened& opened(bool gpu) {
  static const Opened cpu = [] {
    Opened o;
    const char* root = std::getenv("AIGCBENCH_POWERCAP_ROOT");
    o.counter = open_rapl(root != nullptr ? root : "/sys/class/powercap", o.why_not);
    return o;
  }();
  if (!gpu) return cpu;
  static const Opened nvml = [] {
    Opened o;
    o.counter = open_nvml(0, o.why_not);
    return o;
  }();
  return nvml;
}

}  // namespace

EnergyCounter* energy_counter(bool gpu) { return opened(gpu).counter.get(); }

std::string energy_description(bool gpu) {
  const Opened& o = opened(gpu);
  return o.counter ? o.counter->source() : "not measured: " + o.why_not;
}

}  // namespace aigc
