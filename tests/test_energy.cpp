// The energy counters: RAPL's reader on a fake powercap tree (zones, subzones, wrap-around,
// unreadable files), NVML's refusal without a driver, and the results' energy columns.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/energy.hpp"
#include "driver/apply_models.hpp"
#include "kernels/registry.hpp"

using namespace aigc;
namespace fs = std::filesystem;

namespace {

struct FakePowercap {
  fs::path root =
      fs::temp_directory_path() / fs::path("aigc_powercap_" + std::to_string(::getpid()));
  FakePowercap() { fs::create_directories(root); }
  ~FakePowercap() { fs::remove_all(root); }
  void zone(const std::string& dir, const std::string& name, std::uint64_t energy_uj,
            std::uint64_t range_uj) {
    fs::create_directories(root / dir);
    std::ofstream(root / dir / "name") << name << "\n";
    set(dir, energy_uj);
    std::ofstream(root / dir / "max_energy_range_uj") << range_uj << "\n";
  }
  void set(const std::string& dir, std::uint64_t energy_uj) {
    std::ofstream(root / dir / "energy_uj") << energy_uj << "\n";
  }
};

}  // namespace

TEST_CASE("RAPL: package zones summed, subzones not counted twice, a wrapped counter unwrapped") {
  FakePowercap fake;
  fake.zone("intel-rapl:0", "package-0", 5'000'000, 262'143'328'850);
  fake.zone("intel-rapl:0:0", "core", 4'000'000, 262'143'328'850);  // part of package 0
  fake.zone("intel-rapl:1", "package-1", 100, 1'000'000);
  std::string why;
  auto counter = open_rapl(fake.root.string(), why);
  REQUIRE(counter != nullptr);
  CHECK(why.empty());
  CHECK(counter->source() == "rapl:package-0+package-1");
  CHECK(counter->joules() == 0.0);

  fake.set("intel-rapl:0", 7'500'000);    // +2.5 J
  fake.set("intel-rapl:0:0", 9'000'000);  // ignored
  fake.set("intel-rapl:1", 600'100);      // +0.6 J
  CHECK(counter->joules() == Approx(3.1).epsilon(1e-12));

  // Package 1 wraps at 1 J: from 0.6001 J to 0.0002 J is 0.3999 + 0.0002 J, not negative.
  fake.set("intel-rapl:1", 200);
  CHECK(counter->joules() == Approx(3.1 + 0.4001).epsilon(1e-12));
  CHECK(counter->joules() == Approx(3.5001).epsilon(1e-12));  // no change, no energy
}

TEST_CASE("RAPL: no zone or an unreadable counter is no counter, with the reason") {
  FakePowercap fake;
  std::string why;
  CHECK(open_rapl(fake.root.string(), why) == nullptr);
  CHECK_THAT(why, Catch::Contains("no RAPL package zone under"));
  CHECK(open_rapl((fake.root / "missing").string(), why) == nullptr);
  CHECK_THAT(why, Catch::Contains("does not expose"));
  fake.zone("intel-rapl:0", "package-0", 1, 10);
  fs::remove(fake.root / "intel-rapl:0" / "energy_uj");
  CHECK(open_rapl(fake.root.string(), why) == nullptr);
  CHECK_THAT(why, Catch::Contains("energy_uj is not readable"));
}

TEST_CASE("NVML: without a driver or a device there is no counter, and the reason says which") {
  std::string why;
  const auto counter = open_nvml(0, why);
  if (counter == nullptr) {
    CHECK_FALSE(why.empty());
  } else {
    CHECK(counter->source() == "nvml:0");
    CHECK(counter->joules() >= 0.0);
  }
  CHECK(open_nvml(100000, why) == nullptr);  // no machine has that many GPUs
  CHECK_FALSE(why.empty());
}

TEST_CASE(
    "the energy columns: the median per operation, power per repetition, per FLOP and token") {
  const Workload& decoder = find_workload("decoder");
  Measurement m{.workload = &decoder,
                .shape = decoder.parse("cfg=tiny,prompt=16,gen=8"),
                .backend = &find_backend("openmp"),
                .threads = 2,
                .counts = {.flops = 4e9, .bytes = 1e8, .n_units = 1, .tokens = 8},
                .times_s = {0.010, 0.020, 0.040},
                .energy_j = {1.0, 3.0, 2.0},
                .energy_source = "rapl:package-0"};
  ProbeResult probe;
  probe.scalar_flops_per_core = 5e9;
  probe.simd_flops = {{1, 100e9}, {2, 200e9}};
  probe.bandwidth = {{"256KiB", 256e3, false, {{1, 10e9}, {2, 20e9}}, {{1, 10e9}, {2, 20e9}}}};
  auto rows = apply_models({m}, {}, probe);
  REQUIRE(rows.size() == 1);
  const ResultRow& r = rows[0];
  CHECK(*r.energy_j == 2.0);
  CHECK(*r.avg_power_w == 100.0);  // 100, 150 and 50 W
  CHECK(*r.flop_per_joule == 2e9);
  CHECK(*r.joules_per_token == 0.25);
  CHECK(r.energy_source == "rapl:package-0");

  m.energy_j.clear();  // not measured: every energy cell empty
  m.energy_source.clear();
  rows = apply_models({m}, {}, probe);
  CHECK_FALSE(rows[0].energy_j.has_value());
  CHECK_FALSE(rows[0].avg_power_w.has_value());
  CHECK_FALSE(rows[0].flop_per_joule.has_value());
  CHECK(rows[0].energy_source.empty());
}
