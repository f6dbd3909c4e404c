// Machine identity: results, probe caches and figures are named by the hardware, not the host.
#include <catch2/catch.hpp>

#include <cstdlib>

#include <fmt/format.h>

#include "core/machine.hpp"
#include "timing/probe.hpp"

using namespace aigc;

TEST_CASE("the machine id names vendor, brand, microarchitecture, cores and SIMD target") {
  CHECK(make_machine_id({.cpu_vendor = "GenuineIntel",
                         .cpu_model = "Intel(R) Xeon(R) Processor",
                         .cpu_family = 6,
                         .cpu_model_number = 143,
                         .cores = 2,
                         .simd_target = "AVX3"}) == "intel-xeon-spr-2c-avx3");
  CHECK(make_machine_id({.cpu_vendor = "AuthenticAMD",
                         .cpu_model = "AMD EPYC 9B45 128-Core Processor",
                         .cpu_family = 26,
                         .cpu_model_number = 2,
                         .cores = 2,
                         .simd_target = "AVX3_ZEN4"}) == "amd-epyc-zen5-2c-avx3-zen4");
  CHECK(make_machine_id({.cpu_vendor = "AuthenticAMD",
                         .cpu_model = "AMD EPYC",
                         .cpu_family = 25,
                         .cpu_model_number = 1,
                         .cores = 2,
                         .simd_target = "AVX2"}) == "amd-epyc-zen3-2c-avx2");
}

TEST_CASE("an unknown CPU is named by its CPUID numbers, and a GPU by its short name") {
  CHECK(make_machine_id({.cpu_vendor = "GenuineIntel",
                         .cpu_model = "Intel(R) Core(TM) i7-9999",
                         .cpu_family = 6,
                         .cpu_model_number = 999,
                         .cores = 16,
                         .simd_target = "AVX2",
                         .gpu_name = "NVIDIA H100 80GB HBM3"}) ==
        "intel-core-f6m999-16c-avx2-h100");
}

TEST_CASE("two CPUs that report the same model name get different ids") {
  const MachineIdParts a{.cpu_vendor = "AuthenticAMD",
                         .cpu_model = "AMD EPYC",
                         .cpu_family = 25,
                         .cpu_model_number = 1,
                         .cores = 2,
                         .simd_target = "AVX2"};
  MachineIdParts b = a;
  b.cpu_family = 26;
  b.simd_target = "AVX3";
  CHECK(make_machine_id(a) != make_machine_id(b));
}

TEST_CASE("ids are safe in file names, and AIGCBENCH_MACHINE overrides this machine's") {
  CHECK(sanitize_machine_id("  My Box/../x  ") == "my-box-x");
  const std::string own = machine_id();
  CHECK(own.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") == std::string::npos);
  CHECK_FALSE(own.empty());
  ::setenv("AIGCBENCH_MACHINE", "Lab Rig 7", 1);
  CHECK(machine_id() == "lab-rig-7");
  ::unsetenv("AIGCBENCH_MACHINE");
  CHECK(machine_id() == own);
}

TEST_CASE("the probe fingerprint includes the CPU family and model") {
  const MachineInfo& m = machine_info();
  CHECK_THAT(probe_fingerprint(),
             Catch::Contains(fmt::format("family {} model {}", m.cpu_family, m.cpu_model_number)));
}
