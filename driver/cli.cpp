#include "driver/cli.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <fmt/ranges.h>

#include "core/errors.hpp"
#include "core/machine.hpp"
#include "driver/generate_command.hpp"
#include "driver/run_command.hpp"
#include "kernels/cuda/device_query.hpp"
#include "kernels/registry.hpp"
#include "kernels/simd/gemm.hpp"
#include "models/probe.hpp"
#include "workloads/workload.hpp"

namespace aigc {
namespace {

constexpr const char* kUsage = R"(usage: aigcbench <command> [options]

commands:
  list                     backends (available here or why not), SIMD targets, GPU, workloads
  probe [--reprobe] [--probe-file F]
                           measure (or show the cached) peak FLOP/s and bandwidth of this machine
  run [options]            benchmark, apply the timing models, write the results CSV
  generate --prompt-ids ID[,ID...] [options]
                           greedy generation with GPT-2: the token ids and the timings

run options:
  --workloads W[,W...]     workloads to run (default: all: matmul, attention, decoder)
  --backends B[,B...]      backends to run (default: all)
  --threads N[,N...]       thread counts for multithreaded backends (default: 1 and all cores)
  --preset smoke|quick|full  shape set (default: quick)
  --shapes S[;S...]        explicit shapes for one workload, e.g. "M=512,N=768,K=768,bias=1"
  --out FILE.csv           results file, replaced atomically (default: aigcbench-results.csv)
  --repetitions N          timed repetitions per configuration (default: 3; 1..1000)
  --min-time S             minimum seconds per repetition (default: 0.1; 0.001..60)
  --scalar-budget S        scalar runs predicted longer than S seconds use the serial model
                           as baseline instead (default: 2; 0..3600)
  --simd-target T          pin Highway's dispatch to one target, e.g. AVX2 (default: best)
  --probe-file F           probe cache (default: ~/.cache/aigcbench/probe-<host>.json)
  --reprobe                measure the machine again instead of using the cache

generate options:
  --prompt-ids ID[,ID...]  the prompt as GPT-2 token ids, e.g. 464,3290,318 (required)
  --count N                tokens to generate (default: 16; prompt + N <= the context)
  --backend B              backend to run on (default: openmp)
  --threads N              threads for a multithreaded backend (default: all cores)
  --config NAME            gpt2-124m (default), gpt2-355m, gpt2-774m, gpt2-1558m, tiny
  --weights FILE           a Hugging Face model.safetensors (default: seeded random weights)
  --seed N                 seed of the random weights (default: 1234)
)";

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, sep)) {
    if (!item.empty()) parts.push_back(item);
  }
  return parts;
}

long long parse_integer(const std::string& arg, const std::string& text, long long min,
                        long long max) {
  long long v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  const std::string range = fmt::format("valid: {}..{}", min, max);
  if (ec == std::errc::result_out_of_range)
    throw InvalidArgument(arg, fmt::format("'{}' overflows ({})", text, range));
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    throw InvalidArgument(arg, fmt::format("'{}' is not an integer ({})", text, range));
  }
  if (v < min || v > max)
    throw InvalidArgument(arg, fmt::format("{} is out of range ({})", v, range));
  return v;
}

double parse_number(const std::string& arg, const std::string& text, double min, double max) {
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(text.c_str(), &end);
  const std::string range = fmt::format("valid: {}..{}", min, max);
  if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE || !std::isfinite(v)) {
    throw InvalidArgument(arg, fmt::format("'{}' is not a number ({})", text, range));
  }
  if (v < min || v > max)
    throw InvalidArgument(arg, fmt::format("{} is out of range ({})", text, range));
  return v;
}

// Walks "--name value" pairs; flags without a value are listed in `flags`.
class ArgReader {
 public:
  ArgReader(const std::vector<std::string>& args, std::size_t first) : args_(args), i_(first) {}
  bool next(std::string& name) {
    if (i_ >= args_.size()) return false;
    name = args_[i_++];
    if (name.rfind("--", 0) != 0)
      throw InvalidArgument("arguments", fmt::format("unexpected '{}'", name));
    const auto eq = name.find('=');
    if (eq != std::string::npos) {
      inline_value_ = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else {
      inline_value_.reset();
    }
    return true;
  }
  std::string value(const std::string& name) {
    if (inline_value_) return *inline_value_;
    if (i_ >= args_.size()) throw InvalidArgument(name.substr(2), "needs a value");
    return args_[i_++];
  }

 private:
  const std::vector<std::string>& args_;
  std::size_t i_;
  std::optional<std::string> inline_value_;
};

int list_command(std::ostream& out) {
  fmt::print(out, "backends:\n");
  for (const std::string& name : backend_names()) {
    auto b = make_backend(name);
    const Availability av = b->availability();
    fmt::print(out, "  {:<10} {:<28} {} [target: {}{}]\n", name + ":",
               av.available ? "available" : "unavailable (" + av.reason + ")", b->description(),
               b->simd_target(), b->is_multithreaded() ? ", multithreaded" : "");
  }
  fmt::print(out, "SIMD targets here (best first): {}\n",
             fmt::join(simd::available_targets(), ", "));
  const cuda::DeviceSummary gpu = cuda::query_devices();
  fmt::print(out, "GPU: {}\n",
             gpu.device_count > 0 ? fmt::format("{} ({} device(s))", gpu.name, gpu.device_count)
                                  : "none: " + gpu.reason);
  fmt::print(out, "workloads: {}\n", fmt::join(workload_names(), ", "));
  const MachineInfo& m = machine_info();
  fmt::print(out, "machine: {} | {} | {} cores | {} | {}\n", m.host, m.cpu_model, m.cores,
             m.compiler, m.build_type);
  return 0;
}

int probe_command(const std::vector<std::string>& args, std::ostream& out) {
  std::string path = default_probe_path();
  bool reprobe = false;
  ArgReader reader(args, 1);
  std::string name;
  while (reader.next(name)) {
    if (name == "--reprobe") {
      reprobe = true;
    } else if (name == "--probe-file") {
      path = reader.value(name);
    } else {
      throw InvalidArgument(
          "arguments",
          fmt::format("unknown option '{}' for probe (valid: --reprobe, --probe-file)", name));
    }
  }
  const ProbeResult p =
      load_or_run_probe(path, reprobe, [&](const std::string& s) { fmt::print(out, "  {}\n", s); });
  fmt::print(out, "probe {} ({}), measured {}\n", path, p.fingerprint, p.timestamp);
  fmt::print(out, "  scalar: {:.2f} GFLOP/s per core\n", p.scalar_flops_per_core / 1e9);
  for (const auto& [t, v] : p.simd_flops)
    fmt::print(out, "  {} x{}: {:.1f} GFLOP/s\n", p.simd_target, t, v / 1e9);
  for (const BandwidthLevel& level : p.bandwidth) {
    for (const auto& [t, v] : level.bytes_per_s) {
      const auto read = level.read_bytes_per_s.find(t);
      fmt::print(out, "  {:>7} x{}: triad {:.1f} GB/s, read {}\n", level.name, t, v / 1e9,
                 read == level.read_bytes_per_s.end() ? "-"
                                                      : fmt::format("{:.1f} GB/s", read->second / 1e9));
    }
  }
  return 0;
}

RunOptions parse_run_options(const std::vector<std::string>& args) {
  RunOptions o;
  bool repetitions_given = false, min_time_given = false, budget_given = false;
  ArgReader reader(args, 1);
  std::string name;
  while (reader.next(name)) {
    if (name == "--workloads") {
      o.workloads = split(reader.value(name), ',');
      if (o.workloads.empty())
        throw InvalidArgument(
            "workloads", fmt::format("empty list (valid: {})", fmt::join(workload_names(), ", ")));
      for (const auto& w : o.workloads) find_workload(w);
    } else if (name == "--backends") {
      o.backends = split(reader.value(name), ',');
      if (o.backends.empty())
        throw InvalidArgument(
            "backends", fmt::format("empty list (valid: {})", fmt::join(backend_names(), ", ")));
      for (const auto& b : o.backends) make_backend(b);
    } else if (name == "--threads") {
      const int max_threads = 4 * machine_info().cores;
      o.threads.clear();
      for (const auto& t : split(reader.value(name), ','))
        o.threads.push_back(int(parse_integer("threads", t, 1, max_threads)));
      if (o.threads.empty())
        throw InvalidArgument("threads", fmt::format("empty list (valid: 1..{})", max_threads));
    } else if (name == "--preset") {
      const std::string p = reader.value(name);
      if (p == "smoke")
        o.preset = Preset::smoke;
      else if (p == "quick")
        o.preset = Preset::quick;
      else if (p == "full")
        o.preset = Preset::full;
      else
        throw InvalidArgument("preset",
                              fmt::format("unknown preset '{}' (valid: smoke, quick, full)", p));
    } else if (name == "--shapes") {
      o.shapes = split(reader.value(name), ';');
      if (o.shapes.empty()) throw InvalidArgument("shapes", "empty list");
    } else if (name == "--out") {
      o.out = reader.value(name);
    } else if (name == "--repetitions") {
      o.repetitions = int(parse_integer("repetitions", reader.value(name), 1, 1000));
      repetitions_given = true;
    } else if (name == "--min-time") {
      o.min_time_s = parse_number("min-time", reader.value(name), 0.001, 60);
      min_time_given = true;
    } else if (name == "--scalar-budget") {
      o.scalar_budget_s = parse_number("scalar-budget", reader.value(name), 0, 3600);
      budget_given = true;
    } else if (name == "--simd-target") {
      o.simd_target = reader.value(name);
    } else if (name == "--probe-file") {
      o.probe_file = reader.value(name);
    } else if (name == "--reprobe") {
      o.reprobe = true;
    } else {
      throw InvalidArgument(
          "arguments", fmt::format("unknown option '{}' for run (see aigcbench --help)", name));
    }
  }
  // The full preset measures longer and lets the scalar reference run further.
  if (o.preset == Preset::full) {
    if (!repetitions_given) o.repetitions = 5;
    if (!min_time_given) o.min_time_s = 0.3;
    if (!budget_given) o.scalar_budget_s = 20;
  }
  if (o.preset == Preset::smoke) {
    if (!min_time_given) o.min_time_s = 0.01;
  }
  return o;
}

GenerateOptions parse_generate_options(const std::vector<std::string>& args) {
  GenerateOptions o;
  ArgReader reader(args, 1);
  std::string name;
  while (reader.next(name)) {
    if (name == "--prompt-ids") {
      o.prompt_ids = split(reader.value(name), ',');
    } else if (name == "--count") {
      o.count = int(parse_integer("count", reader.value(name), 1, 1 << 20));
    } else if (name == "--backend") {
      o.backend = reader.value(name);
      make_backend(o.backend);  // throws naming the valid backends
    } else if (name == "--threads") {
      o.threads = int(parse_integer("threads", reader.value(name), 1, 4 * machine_info().cores));
    } else if (name == "--config") {
      o.config = reader.value(name);
    } else if (name == "--weights") {
      o.weights = reader.value(name);
    } else if (name == "--seed") {
      o.seed = std::uint64_t(parse_integer("seed", reader.value(name), 0, 1ll << 62));
    } else {
      throw InvalidArgument(
          "arguments",
          fmt::format("unknown option '{}' for generate (see aigcbench --help)", name));
    }
  }
  return o;
}

}  // namespace

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  try {
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
      fmt::print(args.empty() ? err : out, "{}", kUsage);
      return args.empty() ? 2 : 0;
    }
    const std::string& command = args[0];
    if (command == "list") {
      if (args.size() > 1)
        throw InvalidArgument("arguments",
                              fmt::format("list takes no options (got '{}')", args[1]));
      return list_command(out);
    }
    if (command == "probe") return probe_command(args, out);
    if (command == "run") return run_command(parse_run_options(args), out, err);
    if (command == "generate") return generate_command(parse_generate_options(args), out);
    throw InvalidArgument(
        "command", fmt::format("unknown command '{}' (valid: list, probe, run, generate)", command));
  } catch (const InvalidArgument& e) {
    // Options are named with their dashes; the command word and stray words are not options.
    const bool is_option = e.argument() != "command" && e.argument() != "arguments";
    fmt::print(err, "aigcbench: error: {}{}\n", is_option ? "--" : "", e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(err, "aigcbench: error: {}\n", e.what());
    return 1;
  }
}

}  // namespace aigc
