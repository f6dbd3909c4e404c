#include "timing/probe.hpp"

#include <omp.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/errors.hpp"
#include "core/files.hpp"
#include "core/host_memory.hpp"
#include "core/machine.hpp"
#include "core/weight_format.hpp"
#include "kernels/platform.hpp"
#include "timing/probe_health.hpp"
#include "timing/probe_kernels.hpp"

namespace aigc {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// How the rounds of one figure came out: the best (the figure) and their relative spread
// (best - median) / best, the measurement's own noise (the median, not the worst: one slow
// first round, a clock still ramping up, says nothing of the figure).
struct Rate {
  double best = 0, spread = 0;
};

// Several timed rounds of `work` on `threads` threads, each round long enough (>= 50 ms) to
// swamp timer and fork/join overhead.
template <typename Work>
Rate rounds_rate(int threads, double work_per_round, Work&& work, int rounds = 5) {
  std::vector<double> rates;
  for (int r = 0; r < rounds; ++r) {
    const auto t0 = Clock::now();
#pragma omp parallel num_threads(threads)
    work(omp_get_thread_num(), threads);
    rates.push_back(work_per_round / seconds_since(t0));
  }
  std::sort(rates.begin(), rates.end());
  const double best = rates.back(), median = rates[rates.size() / 2];
  return {best, best > 0 ? (best - median) / best : 0};
}

template <typename Work>
double best_rate(int threads, double work_per_round, Work&& work, int rounds = 5) {
  return rounds_rate(threads, work_per_round, std::forward<Work>(work), rounds).best;
}

volatile float g_sink;  // keeps the FMA results alive

Rate measure_simd_flops(int threads, int rounds = 5) {
  const std::size_t iterations = 20'000'000;
  return rounds_rate(
      threads, probe::flops_per_iteration_simd() * iterations * threads,
      [&](int, int) { g_sink = probe::fma_chains_simd(iterations); }, rounds);
}

double measure_bf16_dot_flops(int threads) {
  const std::size_t iterations = 20'000'000;
  return best_rate(threads, probe::flops_per_iteration_bf16() * iterations * threads,
                   [&](int, int) { g_sink = probe::bf16_dot_chains(iterations); });
}

double measure_int8_dot_flops(int threads) {
  const std::size_t iterations = 20'000'000;
  return best_rate(threads, probe::ops_per_iteration_int8() * iterations * threads,
                   [&](int, int) { g_sink = probe::int8_dot_chains(iterations); });
}

double measure_scalar_flops() {
  const std::size_t iterations = 10'000'000;
  return best_rate(1, probe::flops_per_iteration_scalar() * iterations,
                   [&](int, int) { g_sink = probe::fma_chains_scalar(iterations); });
}

// Triad over a working set of `bytes` (three float arrays), repeated so each round
// moves at least 256 MiB; each thread touches only its own slice, first touch included.
Rate measure_triad(double bytes, int threads, int rounds = 5) {
  const std::size_t n = std::max<std::size_t>(1024, static_cast<std::size_t>(bytes / 12));
  // The backends' kind of memory (core/host_memory: 2 MiB pages where allowed).
  const HostArray<float> a = host_array(n, 0.0f), b = host_array(n, 1.0f), c = host_array(n, 2.0f);
  const int passes = std::max(1, static_cast<int>((256.0 * (1 << 20)) / (12.0 * n)));
  auto work = [&](int t, int p) {
    const std::size_t begin = n * t / p, end = n * (t + 1) / p;
    for (int pass = 0; pass < passes; ++pass)
      probe::triad_simd(a.get(), b.get(), c.get(), 0.5f, begin, end);
  };
  best_rate(threads, 1, work, 1);  // warm-up: caches filled, pages touched
  return rounds_rate(threads, 12.0 * n * passes, work, rounds);
}

// A read-only stream over `bytes` (one float array), like the triad otherwise.
double measure_read(double bytes, int threads) {
  const std::size_t n = std::max<std::size_t>(1024, static_cast<std::size_t>(bytes / 4));
  const HostArray<float> b = host_array(n, 1.0f);
  const int passes = std::max(1, static_cast<int>((256.0 * (1 << 20)) / (4.0 * n)));
  auto work = [&](int t, int p) {
    const std::size_t begin = n * t / p, end = n * (t + 1) / p;
    float sum = 0;
    for (int pass = 0; pass < passes; ++pass) sum += probe::read_sum_simd(b.get(), begin, end);
    g_sink = sum;
  };
  best_rate(threads, 1, work, 1);
  return best_rate(threads, 4.0 * n * passes, work);
}

// The spot check's bandwidth level: past the caches on most machines, yet quick to stream.
constexpr double kSpotLevelBytes = 256.0 * (1 << 20);

std::string utc_now() {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::time(nullptr)));
}

}  // namespace

std::vector<int> probe_thread_counts(int cores) {
  std::vector<int> counts;
  for (int t = 1; t < cores; t *= 2) counts.push_back(t);
  counts.push_back(std::max(1, cores));
  return counts;
}

double at_threads(const std::map<int, double>& by_threads, int threads) {
  if (by_threads.empty()) return 0.0;
  const auto above = by_threads.lower_bound(threads);
  if (above == by_threads.end()) return std::prev(above)->second;  // past the sweep: no new cores
  if (above->first == threads || above == by_threads.begin()) return above->second;
  const auto below = std::prev(above);
  const double f = double(threads - below->first) / double(above->first - below->first);
  return below->second + f * (above->second - below->second);
}

namespace {

bool int8_dot_dtype(const std::string& dtype) {
  if (dtype == "file") return true;
  const std::optional<WeightFormat> f = find_weight_format(dtype);
  return f && platform::is_int8_activation_format(*f);
}

}  // namespace

double ProbeResult::peak_flops(ComputeClass cls, int threads, const std::string& dtype) const {
  if (cls == ComputeClass::gpu) {
    if (!gpu) throw std::runtime_error("probe has no GPU figures (no GPU when it was measured)");
    return dtype == "bf16" ? gpu->bf16_flops : gpu->fp32_flops;
  }
  if (cls == ComputeClass::scalar_core) return scalar_flops_per_core * std::max(1, threads);
  if (simd_flops.empty()) throw std::runtime_error("probe has no SIMD FLOP/s figures");
  if (dtype == "bf16" && !bf16_dot_flops.empty()) return at_threads(bf16_dot_flops, threads);
  if (int8_dot_dtype(dtype) && !int8_dot_flops.empty())
    return std::max(at_threads(int8_dot_flops, threads), at_threads(simd_flops, threads));
  return at_threads(simd_flops, threads);
}

const BandwidthLevel& ProbeResult::level_for(double working_set_bytes, int threads) const {
  if (bandwidth.empty()) throw std::runtime_error("probe has no bandwidth figures");
  // Bandwidth only falls as the working set grows, so the figure of the largest swept set not
  // larger than this one bounds it from above (the next set up, slower, would not: a working
  // set that still fits a cache measured against the level beyond ran at 134% of its roofline).
  const BandwidthLevel* best = &bandwidth.front();
  for (const BandwidthLevel& level : bandwidth) {
    const double capacity = level.capacity_bytes * (level.per_core ? std::max(1, threads) : 1);
    if (capacity <= working_set_bytes) best = &level;
  }
  return *best;
}

double ProbeResult::peak_bytes_per_s(double working_set_bytes, int threads) const {
  const BandwidthLevel& level = level_for(working_set_bytes, threads);
  return std::max(at_threads(level.bytes_per_s, threads),
                  at_threads(level.read_bytes_per_s, threads));
}

double ProbeResult::gpu_bytes_per_s() const {
  if (!gpu) throw std::runtime_error("probe has no GPU figures (no GPU when it was measured)");
  return gpu->copy_bytes_per_s;
}

std::string machine_id() {
  if (const char* forced = std::getenv("AIGCBENCH_MACHINE"); forced != nullptr && *forced != '\0') {
    const std::string id = sanitize_machine_id(forced);
    if (!id.empty()) return id;
  }
  static const std::string id = [] {
    const MachineInfo& m = machine_info();
    return make_machine_id({.cpu_vendor = m.cpu_vendor,
                            .cpu_model = m.cpu_model,
                            .cpu_family = m.cpu_family,
                            .cpu_model_number = m.cpu_model_number,
                            .cores = m.cores,
                            // The best target, not one pinned by --simd-target: the
                            // machine stays the same machine.
                            .simd_target = platform::best_target(),
                            .gpu_name = platform::query_devices().name});
  }();
  return id;
}

std::string probe_fingerprint() {
  const MachineInfo& m = machine_info();
  // Family and model too: a VM may report the same model name ("AMD EPYC") on different
  // CPUs. The GPU joins only when there is one, so a CPU machine's cache stays valid.
  const std::string gpu = platform::query_devices().name;
  return fmt::format("{} {} family {} model {} | {} cores | {}{}", m.cpu_vendor, m.cpu_model,
                     m.cpu_family, m.cpu_model_number, m.cores, platform::dispatched_target(),
                     gpu.empty() ? "" : " | " + gpu);
}

namespace {

// Every figure of the probe, as measured (run_probe adds what took cores from it).
ProbeResult measure_peaks(const ProbeProgress& progress) {
  auto say = [&](const std::string& s) {
    if (progress) progress(s);
  };
  const MachineInfo& m = machine_info();
  ProbeResult p;
  p.fingerprint = probe_fingerprint();
  p.timestamp = utc_now();
  p.simd_target = platform::dispatched_target();

  p.scalar_flops_per_core = measure_scalar_flops();
  say(fmt::format("scalar FLOP/s, 1 core: {:.2f} G", p.scalar_flops_per_core / 1e9));
  // 1, 2, 4, ... and every core: a 16-core machine probes 5 counts, not 16 (lookups between
  // them interpolate), so the probe stays well under a minute there.
  const std::vector<int> counts = probe_thread_counts(m.cores);
  for (const int t : counts) {
    const Rate fma = measure_simd_flops(t);
    p.simd_flops[t] = fma.best;
    p.noise = std::max(p.noise, fma.spread);
    say(fmt::format("{} FMA FLOP/s, {} thread(s): {:.1f} G", p.simd_target, t,
                    p.simd_flops[t] / 1e9));
  }
  if (platform::bf16_dot_dispatched()) {  // what gemm() runs bf16 weights on
    for (const int t : counts) {
      p.bf16_dot_flops[t] = measure_bf16_dot_flops(t);
      say(fmt::format("bf16 dot-product FLOP/s, {} thread(s): {:.1f} G", t,
                      p.bf16_dot_flops[t] / 1e9));
    }
  }

  if (platform::int8_dot_dispatched()) {  // what gemm() runs the block formats on
    for (const int t : counts) {
      p.int8_dot_flops[t] = measure_int8_dot_flops(t);
      say(fmt::format("int8 dot-product ops/s, {} thread(s): {:.1f} G", t,
                      p.int8_dot_flops[t] / 1e9));
    }
  }

  // Triad over a sweep of working sets, 16 KiB to 16 MiB in steps of 4x, then to 1 GiB in
  // steps of 2x, rather than at the cache sizes the OS reports: a VM may report the host's
  // caches (here 480 MiB of "L3"), and a working set is held against the bandwidth measured at
  // the largest swept size not larger than it (level_for: an upper bound). The finer steps past
  // the last-level cache keep that bound close: in steps of 4x a decode's 250 MB of weights was
  // held to the 64 MiB set's figure, which a Zen 4 VM's caches served at 1.4x its DRAM speed.
  for (double ws = 16 << 10; ws <= double(1 << 30); ws *= ws < double(16 << 20) ? 4 : 2) {
    const std::string name = ws >= (1 << 20) ? fmt::format("{:.0f}MiB", ws / (1 << 20))
                                             : fmt::format("{:.0f}KiB", ws / 1024);
    BandwidthLevel level{name, ws, false, {}};
    for (const int t : counts) {
      const Rate triad = measure_triad(ws, t);
      level.bytes_per_s[t] = triad.best;
      if (ws == kSpotLevelBytes) p.noise = std::max(p.noise, triad.spread);
      level.read_bytes_per_s[t] = measure_read(ws, t);
      say(fmt::format("{:>7}, {} thread(s): triad {:.1f} GB/s, read {:.1f} GB/s", name, t,
                      level.bytes_per_s[t] / 1e9, level.read_bytes_per_s[t] / 1e9));
    }
    p.bandwidth.push_back(level);
  }
  p.gpu = platform::measure_gpu_peaks();
  if (p.gpu) {
    say(fmt::format(
        "GPU {}: copy {:.0f} GB/s (datasheet {:.0f}), SGEMM {:.1f} TFLOP/s (datasheet "
        "fp32 {:.1f}), bf16 GEMM {:.1f} TFLOP/s",
        p.gpu->name, p.gpu->copy_bytes_per_s / 1e9, p.gpu->datasheet_bytes_per_s / 1e9,
        p.gpu->fp32_flops / 1e12, p.gpu->datasheet_fp32_flops / 1e12, p.gpu->bf16_flops / 1e12));
  }
  return p;
}

}  // namespace

ProbeResult run_probe(const ProbeProgress& progress) {
  const CpuTimes before = read_cpu_times();
  ProbeResult p = measure_peaks(progress);
  const int cores = p.simd_flops.rbegin()->first;
  p.contention =
      contention_reasons(load_between(before, read_cpu_times()), p.simd_flops.begin()->second,
                         p.simd_flops.rbegin()->second, cores);
  return p;
}

std::vector<SpotFigure> spot_check(const ProbeResult& cached) {
  const int cores = cached.simd_flops.rbegin()->first;
  const std::vector<int> threads = cores > 1 ? std::vector<int>{1, cores} : std::vector<int>{1};
  const BandwidthLevel& level = cached.level_for(kSpotLevelBytes, 1);
  std::vector<SpotFigure> figures;
  for (const int t : threads) {
    const Rate fma = measure_simd_flops(t);
    figures.push_back({fmt::format("FMA {} thread(s)", t), at_threads(cached.simd_flops, t),
                       fma.best, std::max(cached.noise, fma.spread)});
  }
  for (const int t : threads) {
    const Rate triad = measure_triad(level.capacity_bytes, t);
    figures.push_back({fmt::format("triad {} {} thread(s)", level.name, t),
                       at_threads(level.bytes_per_s, t), triad.best,
                       std::max(cached.noise, triad.spread)});
  }
  return figures;
}

std::string probe_to_json(const ProbeResult& p) {
  nlohmann::json j;
  j["version"] = p.version;
  j["fingerprint"] = p.fingerprint;
  j["timestamp"] = p.timestamp;
  j["simd_target"] = p.simd_target;
  j["scalar_flops_per_core"] = p.scalar_flops_per_core;
  j["noise"] = p.noise;
  for (const auto& [t, v] : p.simd_flops) j["simd_flops"][std::to_string(t)] = v;
  for (const auto& [t, v] : p.bf16_dot_flops) j["bf16_dot_flops"][std::to_string(t)] = v;
  for (const auto& [t, v] : p.int8_dot_flops) j["int8_dot_flops"][std::to_string(t)] = v;
  for (const BandwidthLevel& level : p.bandwidth) {
    nlohmann::json l{{"name", level.name},
                     {"capacity_bytes", level.capacity_bytes},
                     {"per_core", level.per_core}};
    for (const auto& [t, v] : level.bytes_per_s) l["bytes_per_s"][std::to_string(t)] = v;
    for (const auto& [t, v] : level.read_bytes_per_s) l["read_bytes_per_s"][std::to_string(t)] = v;
    j["bandwidth"].push_back(l);
  }
  if (p.gpu) {
    const platform::GpuPeaks& g = *p.gpu;
    j["gpu"] = {{"name", g.name},
                {"compute_capability", fmt::format("{}.{}", g.compute_major, g.compute_minor)},
                {"sm_count", g.sm_count},
                {"copy_bytes_per_s", g.copy_bytes_per_s},
                {"fp32_flops", g.fp32_flops},
                {"bf16_flops", g.bf16_flops},
                {"datasheet_fp32_flops", g.datasheet_fp32_flops},
                {"datasheet_bytes_per_s", g.datasheet_bytes_per_s}};
  }
  return j.dump(2) + "\n";
}

namespace {

bool positive(double v) { return std::isfinite(v) && v > 0; }

// Figures that cannot be right are refused when the cache is read, not after the timing: every
// peak positive and finite, every thread count 1..N present in each table.
void check_probe_figures(const ProbeResult& p) {
  if (!(p.noise >= 0 && p.noise <= 1))
    throw std::runtime_error(fmt::format("noise {} is not a fraction in [0, 1]", p.noise));
  if (!positive(p.scalar_flops_per_core))
    throw std::runtime_error(
        fmt::format("scalar_flops_per_core {} is not a positive rate", p.scalar_flops_per_core));
  if (p.simd_flops.empty()) throw std::runtime_error("no simd_flops");
  if (p.bandwidth.empty()) throw std::runtime_error("no bandwidth levels");
  const int threads = static_cast<int>(p.simd_flops.size());
  auto check_table = [&](const std::map<int, double>& table, const std::string& what) {
    for (int t = 1; t <= threads; ++t) {
      const auto it = table.find(t);
      if (it == table.end())
        throw std::runtime_error(fmt::format("{} lacks {} thread(s)", what, t));
      if (!positive(it->second))
        throw std::runtime_error(
            fmt::format("{} at {} thread(s) is {}, not a positive rate", what, t, it->second));
    }
  };
  check_table(p.simd_flops, "simd_flops");
  if (!p.bf16_dot_flops.empty()) check_table(p.bf16_dot_flops, "bf16_dot_flops");
  if (!p.int8_dot_flops.empty()) check_table(p.int8_dot_flops, "int8_dot_flops");
  for (const BandwidthLevel& level : p.bandwidth) {
    if (!positive(level.capacity_bytes))
      throw std::runtime_error(
          fmt::format("level {} has capacity {}", level.name, level.capacity_bytes));
    check_table(level.bytes_per_s, "bandwidth " + level.name);
    // Read-only figures are optional per thread count (the triad stands in), but never absurd.
    for (const auto& [t, v] : level.read_bytes_per_s) {
      if (!positive(v))
        throw std::runtime_error(
            fmt::format("read bandwidth {} at {} thread(s) is {}", level.name, t, v));
    }
  }
}

}  // namespace

std::string probe_cache_path(const std::string& path) {
  const std::string target = platform::dispatched_target();
  if (target == platform::best_target()) return path;
  const std::string suffix = fmt::format("-{}", sanitize_machine_id(target));
  const std::string ext = ".json";
  if (path.size() > ext.size() && path.compare(path.size() - ext.size(), ext.size(), ext) == 0)
    return path.substr(0, path.size() - ext.size()) + suffix + ext;
  return path + suffix;
}

namespace {

// An integer field, refused rather than converted when the JSON holds a float or a number out
// of int's range (nlohmann's get<int>() on 7.8e77 is undefined behaviour; found by fuzzing).
int int_field(const nlohmann::json& j, const char* name) {
  const nlohmann::json& v = j.at(name);
  if (!v.is_number_integer()) throw std::runtime_error(fmt::format("{} is not an integer", name));
  const auto wide = v.is_number_unsigned() ? static_cast<long long>(std::min<std::uint64_t>(
                                                 v.get<std::uint64_t>(), std::uint64_t(1) << 62))
                                           : v.get<long long>();
  if (wide < std::numeric_limits<int>::min() || wide > std::numeric_limits<int>::max())
    throw std::runtime_error(fmt::format("{} {} is out of range", name, wide));
  return static_cast<int>(wide);
}

}  // namespace

ProbeResult probe_from_json(const std::string& text, const std::string& source) {
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    ProbeResult p;
    p.version = int_field(j, "version");
    p.fingerprint = j.at("fingerprint").get<std::string>();
    p.timestamp = j.at("timestamp").get<std::string>();
    p.simd_target = j.at("simd_target").get<std::string>();
    p.scalar_flops_per_core = j.at("scalar_flops_per_core").get<double>();
    p.noise = j.at("noise").get<double>();
    for (const auto& [t, v] : j.at("simd_flops").items())
      p.simd_flops[std::stoi(t)] = v.get<double>();
    if (j.contains("bf16_dot_flops")) {
      for (const auto& [t, v] : j.at("bf16_dot_flops").items())
        p.bf16_dot_flops[std::stoi(t)] = v.get<double>();
    }
    if (j.contains("int8_dot_flops")) {
      for (const auto& [t, v] : j.at("int8_dot_flops").items())
        p.int8_dot_flops[std::stoi(t)] = v.get<double>();
    }
    for (const auto& l : j.at("bandwidth")) {
      BandwidthLevel level{l.at("name").get<std::string>(),
                           l.at("capacity_bytes").get<double>(),
                           l.at("per_core").get<bool>(),
                           {}};
      for (const auto& [t, v] : l.at("bytes_per_s").items())
        level.bytes_per_s[std::stoi(t)] = v.get<double>();
      if (l.contains("read_bytes_per_s")) {
        for (const auto& [t, v] : l.at("read_bytes_per_s").items())
          level.read_bytes_per_s[std::stoi(t)] = v.get<double>();
      }
      p.bandwidth.push_back(level);
    }
    if (j.contains("gpu")) {
      const auto& g = j.at("gpu");
      platform::GpuPeaks peaks;
      peaks.name = g.at("name").get<std::string>();
      const std::string cc = g.at("compute_capability").get<std::string>();
      peaks.compute_major = std::stoi(cc.substr(0, cc.find('.')));
      peaks.compute_minor = std::stoi(cc.substr(cc.find('.') + 1));
      peaks.sm_count = int_field(g, "sm_count");
      peaks.copy_bytes_per_s = g.at("copy_bytes_per_s").get<double>();
      peaks.fp32_flops = g.at("fp32_flops").get<double>();
      peaks.bf16_flops = g.at("bf16_flops").get<double>();
      peaks.datasheet_fp32_flops = g.at("datasheet_fp32_flops").get<double>();
      peaks.datasheet_bytes_per_s = g.at("datasheet_bytes_per_s").get<double>();
      p.gpu = peaks;
    }
    check_probe_figures(p);
    return p;
  } catch (const std::exception& e) {
    throw InvalidArgument("probe-file", fmt::format("'{}' is malformed ({}); rerun with --reprobe",
                                                    source, e.what()));
  }
}

namespace {

// The cache at `path` when it is of this probe version and this machine; nullopt (said through
// `progress`) when it is another's. Throws InvalidArgument naming the file when it is corrupt.
std::optional<ProbeResult> read_cached_probe(const std::string& path,
                                             const ProbeProgress& progress) {
  std::ifstream in(path);
  if (!in) {
    throw InvalidArgument("probe-file",
                          fmt::format("'{}': cannot read: {}", path, std::strerror(errno)));
  }
  std::stringstream text;
  text << in.rdbuf();
  const nlohmann::json parsed = nlohmann::json::parse(text.str(), nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    throw InvalidArgument(
        "probe-file",
        fmt::format("'{}' is not a probe cache (not a JSON object); rerun with --reprobe", path));
  }
  // An older version lacks figures this one uses: measure again rather than fail.
  const auto version = parsed.find("version");
  const bool current = version != parsed.end() && version->is_number_integer() &&
                       version->get<long long>() == ProbeResult::kVersion;
  if (current) {
    ProbeResult cached = probe_from_json(text.str(), path);
    if (cached.fingerprint == probe_fingerprint()) return cached;
  }
  if (progress)
    progress(fmt::format(
        "probe cache '{}' is from another machine, target or probe version; probing again", path));
  return std::nullopt;
}

// A cached probe checked by a spot measurement: nullopt (said) when a figure is off, so that
// it is measured again.
std::optional<ProbeResult> spot_checked(ProbeResult cached, const ProbeProgress& progress) {
  const std::vector<SpotFigure> figures = spot_check(cached);
  if (const auto off = figure_off(figures)) {
    if (progress)
      progress(fmt::format("the cached probe is off: {}; probing again", describe(*off)));
    return std::nullopt;
  }
  std::vector<std::string> said;
  for (const SpotFigure& f : figures) said.push_back(describe(f));
  cached.provenance = fmt::format("cached, a spot check agrees: {}", fmt::join(said, "; "));
  return cached;
}

}  // namespace

ProbeResult load_or_run_probe(const std::string& requested_path, const ProbeUse& use,
                              const ProbeProgress& progress) {
  const std::string path = probe_cache_path(requested_path);
  std::error_code exists_ec;
  const bool exists = std::filesystem::exists(std::filesystem::symlink_status(path, exists_ec));
  if (exists) require_regular_file(path, "probe-file");  // a FIFO would block for ever
  if (!use.reprobe && exists) {
    if (std::optional<ProbeResult> cached = read_cached_probe(path, progress)) {
      if (!use.spot_check) {
        cached->provenance = "cached, trusted without a spot check (--trust-probe)";
        return *cached;
      }
      if (std::optional<ProbeResult> checked = spot_checked(*cached, progress)) return *checked;
    }
  }
  // Where the result goes is checked before the measurement, not after it.
  const auto dir = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!dir.empty() && !std::filesystem::create_directories(dir, ec) && ec) {
    throw InvalidArgument("probe-file",
                          fmt::format("cannot create '{}': {}", dir.string(), ec.message()));
  }
  check_writable(path, "probe-file");
  ProbeResult fresh = run_probe(progress);
  if (!fresh.contention.empty() && use.spot_check) {
    // Figures taken under load would hold every later row to a ceiling that is too low.
    fresh.provenance = fmt::format("measured now under load ({}): used for this run, not cached",
                                   fmt::join(fresh.contention, "; "));
    if (progress) progress(fresh.provenance);
    return fresh;
  }
  write_file_atomically(path, probe_to_json(fresh));
  fresh.provenance = fresh.contention.empty()
                         ? "measured now, no contention seen, cached"
                         : fmt::format(
                               "measured now under load ({}), cached all the same "
                               "(--trust-probe)",
                               fmt::join(fresh.contention, "; "));
  return fresh;
}

std::string default_probe_path() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  const std::string base = xdg != nullptr && *xdg != '\0' ? xdg
                           : home != nullptr              ? std::string(home) + "/.cache"
                                                          : std::string(".");
  return fmt::format("{}/aigcbench/probe-{}.json", base, machine_id());
}

}  // namespace aigc
