// The driver's command line: bad input is one clear line naming the argument, exit
// status 2, and nothing already written is touched; a good run writes the whole CSV.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "decoder/known_models.hpp"
#include "decoder/weights.hpp"
#include "driver/generate_command.hpp"

#include "core/files.hpp"
#include "core/machine.hpp"
#include "driver/cli.hpp"
#include "driver/results_csv.hpp"
#include "driver/results_schema.hpp"
#include "kernels/cuda/device_query.hpp"
#include "kernels/registry.hpp"
#include "kernels/simd/gemm.hpp"
#include "timing/probe.hpp"

using namespace aigc;
namespace fs = std::filesystem;

namespace {

struct CliResult {
  int status;
  std::string out, err;
};

CliResult cli(std::vector<std::string> args) {
  std::ostringstream out, err;
  const int status = run_cli(args, out, err);
  return {status, out.str(), err.str()};
}

// A scratch folder with a probe cache for this machine, so runs skip the measurement.
struct Scratch {
  fs::path dir = fs::temp_directory_path() / ("aigc_cli_" + std::to_string(::getpid()));
  Scratch() {
    fs::create_directories(dir);
    ProbeResult p;
    p.fingerprint = probe_fingerprint();
    p.timestamp = "2026-01-01T00:00:00Z";
    p.simd_target = "test";
    p.scalar_flops_per_core = 5e9;
    p.simd_flops = {{1, 100e9}, {2, 200e9}};
    // A cache level, then memory from 256 KiB on: the tiny models' decode is bandwidth-bound.
    p.bandwidth = {{"32KiB", 32e3, true, {{1, 200e9}, {2, 400e9}}},
                   {"256KiB", 256e3, false, {{1, 10e9}, {2, 20e9}}}};
    if (const cuda::DeviceSummary d = cuda::query_devices(); d.device_count > 0) {
      // Ceilings of the order of an H100's, so GPU rows get a roofline.
      p.gpu = cuda::GpuPeaks{.name = d.name,
                             .compute_major = d.compute_major,
                             .compute_minor = d.compute_minor,
                             .sm_count = 132,
                             .copy_bytes_per_s = 3e12,
                             .fp32_flops = 50e12,
                             .bf16_flops = 500e12,
                             .datasheet_fp32_flops = 67e12,
                             .datasheet_bytes_per_s = 3.35e12};
    }
    std::ofstream(probe()) << probe_to_json(p);
  }
  ~Scratch() { fs::remove_all(dir); }
  std::string probe() const { return (dir / "probe.json").string(); }
  std::string file(const std::string& name) const { return (dir / name).string(); }
};

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs `run` with the given extra arguments against an existing results file, and
// checks the failure is exit 2 with a message naming `argument`, the file untouched.
void check_rejected(const std::vector<std::string>& extra, const std::string& argument,
                    const std::string& detail) {
  Scratch scratch;
  const std::string out = scratch.file("previous.csv");
  std::ofstream(out) << "earlier,results\n1,2\n";
  std::vector<std::string> args{"run",           "--trust-probe", "--probe-file",
                                scratch.probe(), "--out",         out};
  args.insert(args.end(), extra.begin(), extra.end());
  const CliResult r = cli(args);
  INFO(r.err);
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::StartsWith("aigcbench: error: " + argument));
  CHECK_THAT(r.err, Catch::Contains(detail));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(read(out) == "earlier,results\n1,2\n");
}

// Runs `args` and checks the failure is exit 2 with one message naming `argument`, nothing on
// standard output.
void check_refused(const std::vector<std::string>& args, const std::string& argument,
                   const std::string& detail) {
  const CliResult r = cli(args);
  INFO(r.out << r.err);
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::StartsWith("aigcbench: error: " + argument));
  CHECK_THAT(r.err, Catch::Contains(detail));
  CHECK(r.out.empty());
}

// The SmolLM2 file `scripts/setup.sh` installs, or nothing (the caller's test says it skipped).
std::optional<std::string> smollm2_file() {
  try {
    return *model_file("smollm2-135m");
  } catch (const InvalidArgument& e) {
    WARN("test skipped: " << e.what());
    return std::nullopt;
  }
}

}  // namespace

TEST_CASE("an unknown backend or workload is refused with the valid names") {
  check_rejected({"--backends", "simd,nope"}, "--backends",
                 "unknown backend 'nope' (valid: scalar, simd");
  check_rejected({"--workloads", "convolution"}, "--workloads",
                 "unknown workload 'convolution' (valid: matmul, attention");
  check_rejected({"--backends", ","}, "--backends", "item 1 of ',' is empty");
}

TEST_CASE("zero, negative, non-numeric and overflowing sizes are refused with the valid range") {
  check_rejected({"--workloads", "matmul", "--shapes", "M=0,N=8,K=8"}, "--shapes",
                 "M=0 is out of range (valid: 1..1048576)");
  check_rejected({"--workloads", "matmul", "--shapes", "M=8,N=-3,K=8"}, "--shapes",
                 "N=-3 is out of range");
  check_rejected({"--workloads", "matmul", "--shapes", "M=8,N=8,K=abc"}, "--shapes",
                 "K='abc' is not an integer");
  check_rejected({"--workloads", "matmul", "--shapes", "M=99999999999999999999999,N=8,K=8"},
                 "--shapes", "overflows");
  check_rejected({"--workloads", "matmul", "--shapes", "M=8,N=8"}, "--shapes", "missing key 'K'");
  check_rejected({"--workloads", "matmul", "--shapes", "M=8,N=8,K=8,Q=1"}, "--shapes",
                 "unknown key 'Q'");
  check_rejected({"--workloads", "matmul", "--shapes", "M=1048576,N=1048576,K=1048576"}, "--shapes",
                 "GiB");
  check_rejected({"--workloads", "attention", "--shapes", "B=1,H=12,S=0,D=64"}, "--shapes",
                 "S=0 is out of range");
  check_rejected({"--workloads", "attention", "--shapes", "B=1,H=12,S=9999999,D=64"}, "--shapes",
                 "valid: 1..65536");
  check_rejected({"--shapes", "M=8,N=8,K=8"}, "--shapes", "choose them with --workloads");
  check_rejected({"--workloads", "decoder", "--shapes", "prompt=8"}, "--shapes",
                 "missing key 'cfg'");
  check_rejected({"--workloads", "decoder", "--shapes", "cfg=gpt9,prompt=8"}, "--shapes",
                 "unknown model 'gpt9'");
  check_rejected({"--workloads", "decoder", "--shapes", "cfg=tiny,prompt=0"}, "--shapes",
                 "prompt=0 is out of range (valid: 1..64)");
  check_rejected({"--workloads", "decoder", "--shapes", "cfg=tiny,prompt=60,gen=5"}, "--shapes",
                 "exceeds tiny's context of 64");
  check_rejected({"--workloads", "decoder", "--shapes", "cfg=tiny,prompt=8,layers=3"}, "--shapes",
                 "layers=3 is out of range (valid: 1..2)");
  check_rejected({"--workloads", "decoder", "--shapes", "cfg=tiny,prompt=8,dtype=iq2_xxs"},
                 "--shapes",
                 "dtype: unknown dtype 'iq2_xxs' (valid: file, f32, f16, bf16, q8_0, q4_0, q4_1, "
                 "q5_0, q5_1, q2_k, q3_k, q4_k, q5_k, q6_k)");
  check_rejected({"--workloads", "decoder", "--shapes", "cfg=tiny,prompt=8,dtype=file"}, "--shapes",
                 "tiny has seeded random weights (valid: a format, or a model with a file: "
                 "smollm2-135m, qwen2.5-coder-0.5b, gemma3-270m)");
  check_rejected({"--workloads", "decoder", "--shapes", "cfg=tiny,prompt=8,dtype=q8_0,dtype=f16"},
                 "--shapes", "key 'dtype' given twice");
  check_rejected({"--workloads", "op", "--shapes", "op=matmul_q4_1,M=1,N=8,K=33,bias=0"},
                 "--shapes", "matmul_q4_1: K = 33 is not a multiple of 32");
}

TEST_CASE("generate prints the prompt, the generated ids and the timings") {
  const CliResult r = cli({"generate", "--config", "tiny", "--prompt-ids", "5,17,96,0", "--count",
                           "6", "--backend", "openmp", "--threads", "2"});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Catch::Contains("prompt (4 tokens): 5 17 96 0"));
  CHECK_THAT(r.out, Catch::Contains("generated (6 tokens): "));
  CHECK_THAT(r.out, Catch::Contains("time to first token: "));
  CHECK_THAT(r.out, Catch::Contains("decode: 5 steps"));
  // The same ids on the scalar reference.
  const CliResult s = cli({"generate", "--config", "tiny", "--prompt-ids", "5,17,96,0", "--count",
                           "6", "--backend", "scalar"});
  auto generated = [](const std::string& text) {
    const auto at = text.find("generated");
    return text.substr(at, text.find('\n', at) - at);
  };
  CHECK(generated(s.out) == generated(r.out));
}

TEST_CASE("generate refuses bad ids, counts, backends and weight files by name") {
  auto rejected = [](const std::vector<std::string>& extra, const std::string& argument,
                     const std::string& detail) {
    std::vector<std::string> args{"generate", "--config", "tiny"};
    args.insert(args.end(), extra.begin(), extra.end());
    check_refused(args, argument, detail);  // nothing on stdout: refused before anything ran
  };
  rejected({"--prompt-ids", "5,97"}, "--prompt-ids",
           "'97' at index 1 is not a token id of tiny (valid: 0..96)");
  rejected({"--prompt-ids", "-1"}, "--prompt-ids", "valid: 0..96");
  rejected({"--prompt-ids", "5,x"}, "--prompt-ids", "'x' at index 1");
  rejected({}, "--prompt-ids", "no prompt");
  std::string full_context = "1";
  for (int i = 1; i < 64; ++i) full_context += ",1";
  rejected({"--prompt-ids", full_context}, "--prompt-ids", "64 tokens leave no room");
  rejected({"--prompt-ids", "1,2", "--count", "63"}, "--count", "leave room for 1..62");
  rejected({"--prompt-ids", "1", "--backend", "gpu9"}, "--backend:", "unknown backend 'gpu9'");
  rejected({"--prompt-ids", "1", "--threads", "0"}, "--threads", "out of range");
  rejected({"--prompt-ids", "1", "--weights", "/nonexistent/model.safetensors"}, "--weights",
           "/nonexistent/model.safetensors");
  rejected({"--prompt-ids", "1", "--dtype", "int3"}, "--dtype",
           "unknown dtype 'int3' (valid: file, f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, "
           "q2_k, q3_k, q4_k, q5_k, q6_k)");
  rejected({"--prompt-ids", "1", "--dtype", "file"}, "--dtype",
           "file keeps each matrix as a GGUF file stores it: give --model FILE.gguf, or a format");
  rejected({"--prompt-ids", "1", "--dtype", "q4_1", "--backend", "onednn"}, "--dtype",
           "onednn has no matmul for q4_1 weights");
  rejected({"--prompt-ids", "1", "--kv", "q4_0"}, "--kv",
           "'q4_0' is not a KV cache format (valid: f32, f16, q8_0)");
  rejected({"--prompt-ids", "1", "--kv", "q8_0"}, "--kv", "16 is not a multiple of 32");

  // A checkpoint of another model: the first mismatched tensor is named.
  Scratch scratch;
  const std::string path = scratch.file("small.safetensors");
  save_gpt2_safetensors(path, random_weights(decoder_config("tiny"), 3));
  const CliResult r =
      cli({"generate", "--config", "gpt2-124m", "--prompt-ids", "1", "--weights", path});
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::Contains("transformer.wte.weight") && Catch::Contains("[50257, 768]"));
}

TEST_CASE("generate blames --prompt-file for its file's faults, and refuses a long text fast") {
  const std::optional<std::string> model = smollm2_file();
  if (!model) return;
  Scratch scratch;
  const std::string file = scratch.file("prompts.txt");
  std::ofstream(file) << [] {
    std::string many;
    for (int i = 0; i < 5000; ++i) many += "hi\n";
    return many;
  }();
  CliResult r = cli({"generate", "--model", *model, "--prompt-file", file, "--count", "1"});
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::Contains("--prompt-file: 5000 prompts") && !Catch::Contains("--batch"));
  std::ofstream(file) << "ab\xff\xfe"
                      << "cd\n";  // not UTF-8
  r = cli({"generate", "--model", *model, "--prompt-file", file, "--count", "1"});
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::Contains("--prompt-file: ") && Catch::Contains("0xff"));
  // 200 KB of one letter: more tokens than the context whatever the merges, refused before
  // encoding (it hung the tokenizer before), with the bound in the message.
  std::ofstream(file) << std::string(200000, 'a') << "\n";
  const auto start = std::chrono::steady_clock::now();
  r = cli({"generate", "--model", *model, "--prompt-file", file, "--count", "1"});
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(20));
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::Contains("--prompt-file: ") && Catch::Contains("context"));
}

TEST_CASE("generate turns SmolLM2's text prompt into Hugging Face's greedy text, streamed") {
  const std::optional<std::string> model = smollm2_file();
  if (!model) return;
  const std::string& path = *model;
  // In f32, as transformers computes (a GGUF model's default is its file's own formats).
  const CliResult r = cli({"generate", "--model", path, "--prompt", "The capital of France is",
                           "--count", "8", "--threads", "2", "--dtype", "f32"});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Catch::Contains("(llama, 134.5 M parameters)"));
  CHECK_THAT(r.out, Catch::Contains("weights stored as f32"));
  // Without --dtype, a GGUF model computes on its file's own formats, as llama.cpp does.
  const CliResult as_stored = cli(
      {"generate", "--model", path, "--prompt-ids", "504,3575", "--count", "2", "--threads", "1"});
  INFO(as_stored.out << as_stored.err);
  CHECK(as_stored.status == 0);
  CHECK_THAT(as_stored.out,
             Catch::Contains("weights stored as in the file (each matrix as stored)"));
  // The ids and text transformers gives (tests/data/smollm2/greedy.json, the first run).
  CHECK_THAT(r.out, Catch::Contains("prompt (5 tokens): 504 3575 282 4649 314"));
  CHECK_THAT(r.out, Catch::Contains("generated (8 tokens): 7042 30 198 198 504 2988 314 42"));
  CHECK_THAT(r.out, Catch::Contains("text:  Paris.\n\nThe answer is:"));
  CHECK_THAT(r.out, Catch::Contains("sampling: greedy"));
  // Seeded sampling repeats itself; --chat ends the answer at the end-of-turn token.
  const std::vector<std::string> sampled{
      "generate",      "--model", path,      "--prompt", "Hi",        "--chat",
      "--temperature", "0.8",     "--top-k", "40",       "--top-p",   "0.95",
      "--seed",        "7",       "--count", "48",       "--threads", "2"};
  const CliResult a = cli(sampled), b = cli(sampled);
  REQUIRE(a.status == 0);
  auto generated = [](const std::string& text) {
    const auto at = text.find("generated");
    return text.substr(at, text.find('\n', at) - at);
  };
  CHECK(generated(a.out) == generated(b.out));
  CHECK_THAT(a.out, Catch::Contains("temperature 0.8, top-k 40, top-p 0.95, seed 7"));
  // Refusals that need the model file.
  auto refused = [&](std::vector<std::string> extra, const std::string& argument,
                     const std::string& detail) {
    std::vector<std::string> args{"generate", "--model", path};
    args.insert(args.end(), extra.begin(), extra.end());
    check_refused(args, argument, detail);
  };
  refused({"--prompt", "x", "--prompt-ids", "1"}, "--prompt", "not both");
  refused({"--prompt", ""}, "--prompt", "an empty value");
  refused({"--prompt", "bad \xff byte"}, "--prompt", "no token for the byte 0xff");
  refused({"--prompt-ids", "1", "--chat"}, "--chat", "give --prompt");
  refused({"--prompt", "x", "--config", "tiny"}, "--model", "leave out --config");
  refused({"--prompt", "x", "--backend", "onednn"}, "--backend", "onednn has no rmsnorm");
}

TEST_CASE("generate decodes several prompts as one batch, each text its own alone") {
  const std::optional<std::string> model = smollm2_file();
  if (!model) return;
  const std::string& path = *model;
  // Prompts of different lengths; greedy, so each sequence's tokens are those it gets alone.
  const std::vector<std::string> texts = {"The capital of France is", "Hello", "Once upon a time"};
  std::vector<std::string> args{"generate", "--model", path, "--count", "8", "--threads", "2"};
  for (const std::string& t : texts) args.insert(args.end(), {"--prompt", t});
  const CliResult batch = cli(args);
  INFO(batch.out << batch.err);
  REQUIRE(batch.status == 0);
  CHECK_THAT(batch.out, Catch::Contains("batch: 3 prompts of 5, 1, 4 tokens"));
  CHECK_THAT(batch.out, Catch::Contains("tokens/s over the batch"));
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const CliResult alone =
        cli({"generate", "--model", path, "--prompt", texts[i], "--count", "8", "--threads", "2"});
    REQUIRE(alone.status == 0);
    const auto at = alone.out.find("generated (");
    const std::string ids = alone.out.substr(at, alone.out.find('\n', at) - at);
    CHECK_THAT(batch.out, Catch::Contains(fmt::format("[{}] {}", i + 1, ids)));
  }
  // The same prompts from a file, one per line.
  Scratch scratch;
  const std::string file = scratch.file("prompts.txt");
  std::ofstream(file) << texts[0] << "\n\n" << texts[1] << "\r\n" << texts[2] << "\n";
  const CliResult from_file =
      cli({"generate", "--model", path, "--prompt-file", file, "--count", "8", "--threads", "2"});
  REQUIRE(from_file.status == 0);
  auto generated = [](const std::string& text) {
    std::string lines;
    for (std::size_t at = text.find("] generated"); at != std::string::npos;
         at = text.find("] generated", at + 1))
      lines += text.substr(at, text.find('\n', at) - at) + "\n";
    return lines;
  };
  CHECK(generated(from_file.out) == generated(batch.out));
  // More prompts than --batch, prompts given twice over, an empty file: refused by name.
  auto refused = [&](std::vector<std::string> extra, const std::string& argument,
                     const std::string& detail) {
    std::vector<std::string> args{"generate", "--model", path};
    args.insert(args.end(), extra.begin(), extra.end());
    check_refused(args, argument, detail);
  };
  refused({"--prompt", "a", "--prompt", "b", "--prompt", "c", "--batch", "2"}, "--batch",
          "3 prompts exceed batch=2");
  refused({"--prompt", "a", "--batch", "0"}, "--batch", "out of range (valid: 1..4096)");
  refused({"--prompt", "a", "--prompt-file", file}, "--prompt-file", "not both");
  const std::string empty = scratch.file("empty.txt");
  std::ofstream(empty) << "\n\n";
  refused({"--prompt-file", empty}, "--prompt-file", "no prompt in it");
}

TEST_CASE("a batch in a decoder shape is refused by name where it cannot run") {
  check_rejected({"--workloads", "decoder", "--shapes", "cfg=tiny,prompt=8,gen=4,batch=0"},
                 "--shapes", "batch=0 is out of range (valid: 1..4096)");
  check_rejected({"--workloads", "decoder", "--shapes", "cfg=tiny,prompt=8,batch=4"}, "--shapes",
                 "batch=4 needs decode steps (gen > 0)");
}

TEST_CASE("shapes with several workloads go each to the one that reads it, or are refused") {
  check_rejected({"--workloads", "matmul,decoder", "--shapes", "cfg=tiny,prompt=8;X=1"}, "--shapes",
                 "'X=1' is a shape of none of the workloads chosen (matmul: ");
  // A tensor-parallel shape in one process: refused by name before any work.
  check_rejected({"--workloads", "collectives,decoder", "--shapes", "cfg=tiny,prompt=8,tp=2"},
                 "--shapes",
                 "tp=2 needs a run of 2 ranks, and this one has 1 (start it with "
                 "mpirun -np 2)");
}

TEST_CASE("generate refuses bad model files, sampling settings and prompts by name") {
  Scratch scratch;
  const std::string junk = scratch.file("junk.gguf");
  std::ofstream(junk) << "not a gguf file at all";
  check_refused({"generate", "--model", junk, "--prompt", "hi"}, "--model", junk);
  check_refused({"generate", "--model", "/nonexistent/m.gguf", "--prompt", "hi"}, "--model",
                "/nonexistent/m.gguf");
  // A folder without config.json.
  check_refused({"generate", "--model", scratch.dir.string(), "--prompt", "hi"}, "--model",
                "config.json: cannot open");
  check_refused({"generate", "--config", "tiny", "--prompt", "hi"}, "--prompt",
                "needs a tokenizer");
  check_refused({"generate", "--config", "tiny", "--prompt-ids", "1", "--temperature", "-1"},
                "--temperature", "out of range");
  check_refused({"generate", "--config", "tiny", "--prompt-ids", "1", "--top-p", "0"}, "--top-p",
                "out of range");
  check_refused({"generate", "--config", "tiny", "--prompt-ids", "1", "--top-k", "-3"}, "--top-k",
                "out of range");
}

TEST_CASE("sampling: greedy at temperature 0, seeded draws from the kept tokens otherwise") {
  const std::vector<float> logits{1.0f, 3.0f, 2.0f, -5.0f};
  std::uint64_t state = 1;
  CHECK(sample_token(logits, 0, 0, 1, state, 0) == 1);
  // top-k 1 is greedy at any temperature; top-p tiny keeps only the likeliest.
  for (int i = 0; i < 20; ++i) {
    CHECK(sample_token(logits, 2.0, 1, 1, state, 0) == 1);
    CHECK(sample_token(logits, 2.0, 0, 1e-6, state, 0) == 1);
    const std::int32_t t = sample_token(logits, 1.0, 2, 1, state, 0);
    CHECK((t == 1 || t == 2));
  }
  // A high temperature reaches every token.
  std::set<std::int32_t> seen;
  for (int i = 0; i < 400; ++i) seen.insert(sample_token(logits, 100.0, 0, 1, state, 0));
  CHECK(seen.size() == 4);
  const std::vector<float> bad{1.0f, std::nanf("")};
  CHECK_THROWS_WITH(sample_token(bad, 1.0, 0, 1, state, 3), Catch::Contains("decode step 3"));
}

TEST_CASE("bad thread counts, repetitions, times and presets are refused with the valid range") {
  check_rejected({"--threads", "0"}, "--threads", "0 is out of range (valid: 1..");
  check_rejected({"--threads", "1,-2"}, "--threads", "-2 is out of range");
  check_rejected({"--threads", "two"}, "--threads", "'two' is not an integer");
  check_rejected({"--threads", "99999999999999999999"}, "--threads", "overflows");
  check_rejected({"--repetitions", "0"}, "--repetitions", "valid: 1..1000");
  check_rejected({"--min-time", "-1"}, "--min-time", "out of range");
  check_rejected({"--min-time", "fast"}, "--min-time", "not a number");
  check_rejected({"--preset", "huge"}, "--preset", "valid: smoke, quick, full, gpu");
  check_rejected({"--simd-target", "AVX9000"}, "--simd-target", "valid here");
  check_rejected({"--bogus"}, "arguments", "unknown option '--bogus'");
  check_rejected({"--threads"}, "--threads", "needs a value");
}

TEST_CASE("an unwritable output path is refused before any work, leaving no file behind") {
  Scratch scratch;
  for (const std::string& out :
       {std::string("/nonexistent-dir/results.csv"), scratch.dir.string()}) {
    const CliResult r = cli({"run", "--trust-probe", "--probe-file", scratch.probe(), "--out", out,
                             "--preset", "smoke"});
    INFO(r.err);
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Catch::StartsWith("aigcbench: error: --out"));
    CHECK(r.out.find("serial model") == std::string::npos);  // nothing ran
  }
  CHECK(std::distance(fs::directory_iterator(scratch.dir), fs::directory_iterator()) ==
        1);  // the probe only
}

TEST_CASE("an unknown command or no command prints the usage and exits 2") {
  CHECK(cli({}).status == 2);
  const CliResult r = cli({"frobnicate"});
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::Contains("unknown command 'frobnicate' (valid: list, probe, run, "
                                    "generate, model, schema, machine)"));
  CHECK(cli({"--help"}).status == 0);
}

TEST_CASE("an unwritable probe file is refused before the machine is measured") {
  const CliResult r = cli({"probe", "--reprobe", "--probe-file", "/proc/no-such-dir/probe.json"});
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::StartsWith("aigcbench: error: --probe-file"));
  CHECK(r.out.find("FLOP/s") == std::string::npos);  // nothing was measured
  CHECK(cli({"list", "--verbose"}).status == 2);
}

TEST_CASE("list names every backend with its availability") {
  const CliResult r = cli({"list"});
  CHECK(r.status == 0);
  for (const char* b : {"scalar", "simd", "openmp", "onednn", "cuda-naive", "cuda-tiled", "cuda",
                        "cuda-bf16", "cublas"})
    CHECK_THAT(r.out, Catch::Contains(std::string(b) + ":"));
  CHECK_THAT(r.out, Catch::Contains("GPU:"));
  // The formats each backend's matmul takes, from its descriptor and the format table.
  std::vector<std::string> simd_formats;
  for (const WeightFormat f : find_backend("simd").weight_formats)
    simd_formats.emplace_back(weight_format_name(f));
  CHECK(simd_formats.size() == weight_format_table().size());  // simd computes on every format
  CHECK_THAT(r.out, Catch::Contains(fmt::format("weights: {};", fmt::join(simd_formats, ", "))));
  // Without a GPU, every GPU backend says so and why.
  if (!find_backend("cuda").availability().available) {
    CHECK_THAT(r.out, Catch::Contains("cuda:      unavailable (" +
                                      find_backend("cuda").availability().reason + ")"));
  }
}

TEST_CASE("a GPU backend named on a machine without one is recorded as skipped, with the reason") {
  const BackendDescriptor& cuda = find_backend("cuda");
  if (cuda.availability().available) {
    WARN("test skipped: this machine has a GPU, so no GPU backend is skipped");
    return;
  }
  Scratch scratch;
  const std::string out = scratch.file("results.csv");
  const CliResult r = cli({"run", "--workloads", "matmul", "--shapes", "M=8,N=8,K=8", "--backends",
                           "scalar,cuda,cublas", "--repetitions", "2", "--min-time", "0.001",
                           "--trust-probe", "--probe-file", scratch.probe(), "--out", out});
  INFO(r.out << r.err);
  CHECK(r.status == 0);
  const std::string csv = read(out);
  CHECK_THAT(csv, Catch::Contains(",cuda,"));
  CHECK_THAT(csv, Catch::Contains(",cublas,"));
  CHECK_THAT(csv, Catch::Contains("skipped: " + cuda.availability().reason));
}

TEST_CASE("a smoke run replaces the results file with one verified row per configuration") {
  Scratch scratch;
  const std::string out = scratch.file("results.csv");
  std::ofstream(out) << "stale\n";
  // The CPU backends by name: on a GPU machine a run without --backends adds the GPU rows,
  // which the GPU variant below checks by their own rules.
  const CliResult r = cli({"run", "--preset", "smoke", "--backends", "scalar,simd,openmp,onednn",
                           "--threads", "1,2", "--repetitions", "2", "--min-time", "0.001",
                           "--trust-probe", "--probe-file", scratch.probe(), "--out", out});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);

  std::istringstream csv(read(out));
  std::string line;
  std::getline(csv, line);
  CHECK(split_csv_line(line) == csv_columns());
  auto col = [](const std::string& name) {
    return std::find(csv_columns().begin(), csv_columns().end(), name) - csv_columns().begin();
  };
  int rows = 0, skipped = 0;
  // Energy: the run says where it comes from, or why not (these VMs expose no RAPL); the
  // columns are filled exactly where it is read.
  const bool energy = r.out.find("energy (CPU backends): rapl:") != std::string::npos;
  CHECK((energy || r.out.find("energy (CPU backends): not measured: ") != std::string::npos));
  while (std::getline(csv, line)) {
    ++rows;
    const auto c = split_csv_line(line);
    REQUIRE(c.size() == csv_columns().size());
    INFO(line);
    if (c[col("status")] == "ok") {
      CHECK(c[col("energy_j")].empty() == !energy);
      CHECK(c[col("energy_source")].rfind(energy ? "rapl:" : "", 0) == 0);
      if (!energy) CHECK(c[col("avg_power_w")].empty());
    }
    // oneDNN 2.6 has no RMSNorm: its Llama-family decoder rows say so, with no time; nor a
    // matmul on q4_1 weights.
    if (c[col("backend")] == "onednn" && c[col("shape")].find("tiny-llama") != std::string::npos) {
      CHECK(c[col("status")] == "skipped: onednn has no rmsnorm for f32");
      CHECK(c[col("time_median_s")].empty());
      ++skipped;
      continue;
    }
    if (c[col("backend")] == "onednn" && c[col("dtype")] == "q4_1") {
      CHECK(c[col("status")] == "skipped: onednn has no matmul for q4_1 weights");
      ++skipped;
      continue;
    }
    // A weight format: against its f32 twin (measured and predicted), its bound named.
    if (c[col("dtype")] == "q4_1") {
      CHECK(std::stod(c[col("format_speedup")]) > 0);
      CHECK(std::stod(c[col("format_speedup_pred")]) > 1);
    }
    CHECK(std::stod(c[col("error_tolerance")]) > 0);
    CHECK(c[col("status")] == "ok");
    CHECK(std::stod(c[col("time_median_s")]) > 0);
    // fp32 rows land far inside their bound. A block format's activations round to int8 (the
    // reference rounds them too), but an activation within an ulp of a rounding boundary may
    // round one way here and the other in float64: one step of 1/127 of its block, which the
    // tolerance allows for (decoder/model.hpp). Which elements lie there moves with any
    // change of summation order, so only the bound is asserted for them.
    if (c[col("dtype")] == "q4_1") {
      CHECK(std::stod(c[col("max_rel_error")]) <= std::stod(c[col("error_tolerance")]));
    } else {
      CHECK(std::stod(c[col("max_rel_error")]) < 1e-4);
    }
    if (c[col("workload")] != "matmul")
      CHECK((c[col("phase")] == "prefill" || c[col("phase")] == "decode"));
    if (c[col("workload")] == "decoder") CHECK(std::stod(c[col("tokens_per_s")]) > 0);
    if (c[col("workload")] != "decoder") CHECK(c[col("tokens_per_s")].empty());
    CHECK(c[col("baseline_source")] == "measured");
    CHECK(std::stod(c[col("speedup_vs_scalar")]) > 0);
    CHECK(std::stod(c[col("roofline_fraction")]) > 0);
    CHECK(std::stod(c[col("t_single_s")]) > 0);
    if (c[col("backend")] == "scalar") CHECK_FALSE(c[col("serial_model_error")].empty());
    if (c[col("threads")] == "2") CHECK(std::stod(c[col("parallel_efficiency")]) > 0);
    if (c[col("threads")] == "2") CHECK_FALSE(c[col("karp_flatt")].empty());
  }
  // (matmul, attention: 2 shapes; decoder: 6, a batch of 4 among them) x (scalar, simd at 1
  // thread + openmp, onednn at 1 and 2 threads); onednn's 4 tiny-llama rows and 2 q4_1 rows
  // skipped.
  CHECK(rows == 60);
  CHECK(skipped == 6);
  // Each repetition's time beside it: 54 measured configurations x 2 repetitions.
  std::istringstream reps(read(scratch.file("results.repetitions.csv")));
  std::getline(reps, line);
  CHECK(line ==
        "schema_version,run_id,machine,workload,phase,shape,backend,dtype,threads,repetition,"
        "time_s");
  int rep_rows = 0;
  while (std::getline(reps, line)) {
    ++rep_rows;
    CHECK(std::stod(split_csv_line(line).back()) > 0);
  }
  CHECK(rep_rows == 108);
  CHECK(std::distance(fs::directory_iterator(scratch.dir), fs::directory_iterator()) ==
        3);  // probe, results, repetitions: no temp left
}

TEST_CASE("on a GPU: a smoke run of every GPU backend gives verified, device-timed rows") {
  const BackendDescriptor& cuda = find_backend("cuda");
  if (!cuda.availability().available) {
    WARN("test skipped: " << cuda.availability().reason);
    return;
  }
  Scratch scratch;
  const std::string out = scratch.file("gpu.csv");
  const std::vector<std::string> gpu = {"cuda-naive", "cuda-tiled", "cuda", "cuda-bf16", "cublas"};
  const CliResult r =
      cli({"run", "--preset", "smoke", "--backends",
           "scalar,cuda-naive,cuda-tiled,cuda,cuda-bf16,cublas", "--repetitions", "2", "--min-time",
           "0.001", "--trust-probe", "--probe-file", scratch.probe(), "--out", out});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  std::istringstream csv(read(out));
  std::string line;
  std::getline(csv, line);
  auto col = [](const std::string& name) {
    return std::find(csv_columns().begin(), csv_columns().end(), name) - csv_columns().begin();
  };
  int rows = 0, gpu_ok = 0;
  while (std::getline(csv, line)) {
    ++rows;
    const auto c = split_csv_line(line);
    REQUIRE(c.size() == csv_columns().size());
    INFO(line);
    const std::string& backend = c[col("backend")];
    if (backend == "cuda-bf16" && c[col("workload")] != "matmul") {
      // A capability, decided before anything runs: no time, no error.
      CHECK_THAT(c[col("status")], Catch::StartsWith("skipped: cuda-bf16 has no "));
      CHECK(c[col("time_median_s")].empty());
      continue;
    }
    REQUIRE(c[col("status")] == "ok");
    CHECK(std::stod(c[col("time_median_s")]) > 0);
    const double err = std::stod(c[col("max_rel_error")]);
    // bf16 operands round to 8 bits: a K = 64 product is within a few 2^-8 of float64.
    CHECK(err < (backend == "cuda-bf16" ? 2e-2 : 1e-4));
    if (backend == "scalar") continue;
    ++gpu_ok;
    CHECK_THAT(c[col("simd_target")], Catch::StartsWith("sm_"));
    CHECK_FALSE(c[col("gpu_name")].empty());
    CHECK(c[col("dtype")] == (backend == "cuda-bf16" ? "bf16" : "f32"));
    CHECK(c[col("threads")] == "1");
    CHECK(std::stod(c[col("upload_s")]) > 0);
    CHECK(std::stod(c[col("download_s")]) > 0);
    CHECK(std::stod(c[col("peak_flops")]) == (backend == "cuda-bf16" ? 500e12 : 50e12));
    CHECK(std::stod(c[col("peak_bytes_per_s")]) == 3e12);
    const double roof = std::stod(c[col("roofline_fraction")]);
    CHECK(roof > 0);
    CHECK(roof <= 1.0);  // the probe's ceilings here are above what a small case reaches
    CHECK(std::stod(c[col("speedup_vs_scalar")]) > 0);
    if (c[col("workload")] == "decoder") CHECK(std::stod(c[col("tokens_per_s")]) > 0);
  }
  // (matmul, attention: 2 shapes; decoder: 4) x (scalar + 5 GPU backends); cuda-bf16 runs
  // matmul only.
  CHECK(rows == 48);
  CHECK(gpu_ok == 8 * 5 - 6);  // cuda-bf16 skips 2 attention and 4 decoder rows
}

TEST_CASE("a row faster than its roofline is flagged in its column and warned about") {
  Scratch scratch;
  // Ceilings far below what any CPU reaches: every timed row beats its roofline.
  ProbeResult low = probe_from_json(read(scratch.probe()), "probe");
  low.scalar_flops_per_core = 1e3;
  low.simd_flops = {{1, 1e3}, {2, 2e3}};
  low.bandwidth = {{"32KiB", 32e3, true, {{1, 1e3}, {2, 2e3}}}};
  const std::string probe = scratch.file("low.json");
  std::ofstream(probe) << probe_to_json(low);
  const std::string out = scratch.file("above.csv");
  const CliResult r = cli({"run", "--workloads", "matmul", "--backends", "simd", "--shapes",
                           "M=8,N=8,K=8", "--repetitions", "1", "--min-time", "0.001",
                           "--trust-probe", "--probe-file", probe, "--out", out});
  INFO(r.out << r.err);
  CHECK(r.status == 0);  // the measurements stand; the ceiling is what is wrong
  CHECK_THAT(r.err, Catch::Contains("warning: 1 row(s) ran faster than their roofline") &&
                        Catch::Contains("matmul M=8,N=8,K=8 simd 1 threads"));
  CHECK_THAT(r.out, Catch::Contains("%!") && Catch::Contains("a ceiling is wrong"));
  std::istringstream csv(read(out));
  std::string line;
  std::getline(csv, line);
  const auto col = std::find(csv_columns().begin(), csv_columns().end(), "above_roofline") -
                   csv_columns().begin();
  REQUIRE(std::getline(csv, line));
  CHECK(split_csv_line(line)[static_cast<std::size_t>(col)] == "1");

  // The sane ceilings of the scratch probe: no warning, the column 0.
  const CliResult ok = cli({"run", "--workloads", "matmul", "--backends", "simd", "--shapes",
                            "M=8,N=8,K=8", "--repetitions", "1", "--min-time", "0.001",
                            "--trust-probe", "--probe-file", scratch.probe(), "--out", out});
  INFO(ok.out << ok.err);
  CHECK(ok.status == 0);
  CHECK_THAT(ok.err, !Catch::Contains("roofline"));
  std::istringstream csv2(read(out));
  std::getline(csv2, line);
  REQUIRE(std::getline(csv2, line));
  CHECK(split_csv_line(line)[static_cast<std::size_t>(col)] == "0");
}

TEST_CASE(
    "the driver skips the scalar attention whose score tensor would not fit, naming the size") {
  Scratch scratch;
  const std::string out = scratch.file("huge.csv");
  const CliResult r =
      cli({"run", "--workloads", "attention", "--backends", "scalar", "--shapes",
           "B=8,H=16,S=8192,D=1", "--trust-probe", "--probe-file", scratch.probe(), "--out", out});
  INFO(r.out << r.err);
  CHECK(r.status == 1);  // its only configuration skipped: nothing measured
  CHECK_THAT(r.err, Catch::Contains("nothing was measured"));
  CHECK_THAT(r.out,
             Catch::Contains("skipped: the scalar path's score tensor [B,H,S,L] needs 32.00 GiB"));
  CHECK_THAT(read(out), Catch::Contains("needs 32.00 GiB"));
}

TEST_CASE("a JSON run writes one object per row with the machine and the repetition times") {
  Scratch scratch;
  const std::string out = scratch.file("results.json");
  const CliResult r = cli({"run", "--workloads", "matmul", "--shapes", "M=8,N=8,K=8", "--backends",
                           "scalar,simd", "--repetitions", "3", "--min-time", "0.001", "--format",
                           "json", "--trust-probe", "--probe-file", scratch.probe(), "--out", out});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  const auto j = nlohmann::json::parse(read(out));
  CHECK(j["schema_version"] == kResultsSchemaVersion);
  REQUIRE(j["rows"].size() == 2);
  for (const auto& row : j["rows"]) {
    CHECK(row["machine"] == machine_id());
    CHECK(row["status"] == "ok");
    CHECK(row["repetition_times_s"].size() == 3);
    CHECK(row["time_median_s"].get<double>() > 0);
  }
  CHECK_FALSE(fs::exists(repetitions_path(out)));  // inside the JSON instead
  check_rejected({"--format", "xml"}, "--format", "unknown format 'xml' (valid: csv, json)");
}

TEST_CASE("schema prints the results table, as text or as the JSON the scripts read") {
  const CliResult text = cli({"schema"});
  CHECK(text.status == 0);
  for (const ResultColumn& c : result_columns()) CHECK_THAT(text.out, Catch::Contains(c.name));
  const CliResult json = cli({"schema", "--format", "json"});
  REQUIRE(json.status == 0);
  const auto j = nlohmann::json::parse(json.out);
  CHECK(j["columns"].size() == result_columns().size());
  CHECK(cli({"schema", "--format", "yaml"}).status == 2);
}

TEST_CASE("every command answers --help, and machine prints the hardware id") {
  for (const char* command : {"list", "probe", "run", "generate", "schema", "machine"}) {
    INFO(command);
    const CliResult r = cli({command, "--help"});
    CHECK(r.status == 0);
    CHECK_THAT(r.out, Catch::Contains("Usage"));
  }
  const CliResult m = cli({"machine"});
  CHECK(m.status == 0);
  CHECK(m.out == machine_id() + "\n");
  CHECK_THAT(cli({"run", "--help"}).out, Catch::Contains("--repetitions"));
}

TEST_CASE("a backend that lacks an op is a skipped row saying so, decided before any work") {
  Scratch scratch;
  const std::string out = scratch.file("ops.csv");
  const CliResult r =
      cli({"run", "--workloads", "op", "--shapes", "op=rmsnorm,rows=2,dim=8", "--backends",
           "scalar,onednn", "--threads", "1", "--repetitions", "2", "--min-time", "0.001",
           "--trust-probe", "--probe-file", scratch.probe(), "--out", out});
  INFO(r.out << r.err);
  CHECK(r.status == 0);
  const std::string csv = read(out);
  CHECK_THAT(csv, Catch::Contains("skipped: onednn has no rmsnorm for f32"));
  CHECK_THAT(csv, Catch::Contains(",scalar,f32,1,2,"));  // the scalar row ran, 2 repetitions
}

TEST_CASE("an option missing its value is named, not the word after it") {
  check_rejected({"--repetitions"}, "--repetitions", "needs a value");
  Scratch scratch;
  const CliResult r =
      cli({"run", "--trust-probe", "--probe-file", scratch.probe(), "--out", "--repetitions", "1"});
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::StartsWith("aigcbench: error: --out: needs a value") &&
                        Catch::Contains("'--repetitions'"));
  CHECK_FALSE(fs::exists("--repetitions"));
}

TEST_CASE("an output, weights or probe file that is not a regular file is refused by name") {
  Scratch scratch;
  const std::string fifo = scratch.file("fifo");
  REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
  CliResult r =
      cli({"run", "--trust-probe", "--probe-file", scratch.probe(), "--out", "/dev/null"});
  CHECK(r.status == 2);
  CHECK_THAT(r.err,
             Catch::StartsWith("aigcbench: error: --out: '/dev/null' is not a regular file"));
  r = cli({"run", "--trust-probe", "--probe-file", scratch.probe(), "--out", fifo});
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::Contains("FIFO"));
  // Reading a FIFO would block for ever: refused before it is opened.
  r = cli({"generate", "--config", "tiny", "--prompt-ids", "1", "--weights", fifo});
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::StartsWith("aigcbench: error: --weights") &&
                        Catch::Contains("not a regular file"));
  r = cli({"probe", "--probe-file", fifo});
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::StartsWith("aigcbench: error: --probe-file"));
  r = cli({"generate", "--config", "tiny", "--prompt-ids", "1", "--weights", ""});
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::Contains("--weights: an empty value"));
  CHECK(fs::is_fifo(fifo));
}

TEST_CASE("a corrupt or absurd probe cache stops the run with exit 2 naming the file") {
  Scratch scratch;
  const std::string valid = read(scratch.probe());
  const std::string out = scratch.file("results.csv");
  for (const std::string& text :
       {std::string(""), std::string("[1, 2]"), std::string("{\"version\": \"x\""),
        fmt::format("{{\"version\": {}, \"fingerprint\": 7}}", ProbeResult::kVersion)}) {
    INFO(text);
    std::ofstream(scratch.probe()) << text;
    const CliResult r = cli({"run", "--workloads", "matmul", "--shapes", "M=8,N=8,K=8",
                             "--trust-probe", "--probe-file", scratch.probe(), "--out", out});
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Catch::StartsWith("aigcbench: error: --probe-file: '" + scratch.probe()));
    CHECK(r.out.find("serial model") == std::string::npos);  // nothing was measured
  }
  // Figures that cannot be right are refused when read, not after the timing.
  ProbeResult p = probe_from_json(valid, "fresh");
  p.simd_flops[1] = 0;
  CHECK_THROWS_WITH(probe_from_json(probe_to_json(p), "zero.json"),
                    Catch::Contains("zero.json") && Catch::Contains("simd_flops at 1 thread"));
  p.simd_flops.erase(1);
  CHECK_THROWS_WITH(probe_from_json(probe_to_json(p), "gap.json"),
                    Catch::Contains("lacks 1 thread"));
}

TEST_CASE("a run pinned to a narrower SIMD target keeps its own probe cache beside the best's") {
  const auto targets = simd::available_targets();
  if (targets.size() < 2) {
    WARN("test skipped: this CPU has one SIMD target");
    return;
  }
  Scratch scratch;
  const std::string before = read(scratch.probe());
  const std::string pinned = targets[1];
  const CliResult r = cli(
      {"run",   "--workloads",        "matmul", "--shapes",      "M=8,N=8,K=8",  "--backends",
       "simd",  "--threads",          "1",      "--simd-target", pinned,         "--repetitions",
       "2",     "--min-time",         "0.001",  "--trust-probe", "--probe-file", scratch.probe(),
       "--out", scratch.file("r.csv")});
  INFO(r.out << r.err);
  CHECK(r.status == 0);
  CHECK(read(scratch.probe()) == before);  // the best target's cache untouched
  CHECK(fs::exists(scratch.file("probe-" + sanitize_machine_id(pinned) + ".json")));
  simd::force_target("");
}

TEST_CASE("a configuration named twice is measured once") {
  Scratch scratch;
  const std::string out = scratch.file("dup.csv");
  const CliResult r =
      cli({"run", "--workloads", "matmul", "--shapes", "M=8,N=8,K=8;M=8,N=8,K=8", "--backends",
           "scalar,scalar,openmp", "--threads", "1,1", "--repetitions", "2", "--min-time", "0.001",
           "--trust-probe", "--probe-file", scratch.probe(), "--out", out});
  INFO(r.out << r.err);
  CHECK(r.status == 0);
  const std::string csv = read(out);
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 3);  // header, scalar, openmp x1
}

namespace {

// How many lines of a repetitions file belong to each run id (its second column).
std::map<std::string, int> repetitions_by_run(const std::string& csv) {
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);  // header
  std::map<std::string, int> runs;
  while (std::getline(in, line)) ++runs[split_csv_line(line).at(1)];
  return runs;
}

// The run id of a one-run results file.
std::string results_run_id(const std::string& csv) {
  std::istringstream in(csv);
  std::string header, row;
  std::getline(in, header);
  std::getline(in, row);
  const std::vector<std::string> names = split_csv_line(header);
  const auto at = std::size_t(std::find(names.begin(), names.end(), "run_id") - names.begin());
  return split_csv_line(row).at(at);
}

}  // namespace

TEST_CASE("results and repetitions on disk are always one run's pair, whichever rename fails") {
  // Two renames are not one step: the new repetitions also hold the times of the results they
  // are about to replace, so the old results (a kill or error before their rename) still find
  // theirs, and the new ones theirs after.
  Scratch scratch;
  const std::string out = scratch.file("pair.csv");
  const std::string reps = scratch.file("pair.repetitions.csv");
  auto run = [&] {
    const CliResult r =
        cli({"run", "--workloads", "matmul", "--shapes", "M=8,N=8,K=8", "--backends", "scalar",
             "--threads", "1", "--repetitions", "3", "--min-time", "0.001", "--trust-probe",
             "--probe-file", scratch.probe(), "--out", out});
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // run ids are per second
  };
  run();
  const std::string first = read(out);
  const std::string first_id = results_run_id(first);
  CHECK(repetitions_by_run(read(reps)) == std::map<std::string, int>{{first_id, 3}});
  run();
  const std::string second_id = results_run_id(read(out));
  REQUIRE(second_id != first_id);
  // The state a failed second rename leaves: the first results beside the new repetitions.
  CHECK(repetitions_by_run(read(reps)) ==
        std::map<std::string, int>{{first_id, 3}, {second_id, 3}});
  run();  // the file carries only the run before, not every run
  const std::string third_id = results_run_id(read(out));
  CHECK(repetitions_by_run(read(reps)) ==
        std::map<std::string, int>{{second_id, 3}, {third_id, 3}});
}

TEST_CASE("model refuses a forged results CSV by file, line and column, before any curve") {
  Scratch scratch;
  const std::string csv = scratch.file("forged.csv");
  auto write = [&](const std::string& threads, const std::string& shape, const std::string& time) {
    std::ofstream(csv) << "schema_version,workload,phase,status,backend,ranks,threads,shape,"
                          "time_median_s\n"
                       << "13,decoder,decode,ok,openmp,1," << threads << ",\"" << shape << "\","
                       << time << "\n";
  };
  auto model = [&](std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"model", "--results", csv,   "--alpha",
                                     "1e-6",  "--beta",    "1e-9"};
    args.insert(args.end(), extra.begin(), extra.end());
    return cli(args);
  };
  const std::string shape = "cfg=gpt2-124m,prompt=1,gen=32";
  write("2", shape, "0.5");
  CHECK(model().status == 0);  // the well-formed file gives a curve
  struct Forgery {
    std::string threads, shape, time, says;
  };
  for (const Forgery& f : std::vector<Forgery>{
           {"2", shape, "inf", "line 2, column time_median_s: 'inf' is not a number"},
           {"2", shape, "1e999", "'1e999' is not a number"},
           {"2", shape, "abc", "'abc' is not a number"},
           {"2", shape, "0", "'0' is not a number in 1e-12.."},
           {"2", shape, "-1", "'-1' is not a number"},
           {"1e10", shape, "0.5", "column threads: '1e10' is not a number in 1..65536"},
           {"2", "cfg=gpt2-124m,prompt=1", "0.5", "generates no tokens"},
           {"2", "cfg=nonsense,gen=1", "0.5", "line 2, column shape"}}) {
    write(f.threads, f.shape, f.time);
    const CliResult r = model();
    INFO(f.threads << " " << f.shape << " " << f.time << ": " << r.out << r.err);
    CHECK(r.status == 2);
    CHECK_THAT(r.err,
               Catch::Contains("--results: ") && Catch::Contains(f.says) && Catch::Contains(csv));
    CHECK_THAT(r.err, !Catch::Contains("--shapes"));
  }
  // A network file without the columns it needs: named, not "map::at".
  write("2", shape, "0.5");
  const std::string network = scratch.file("net.csv");
  std::ofstream(network) << "schema_version,shape\n13,op=pingpong\n";
  const CliResult r = cli({"model", "--results", csv, "--network", network});
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::Contains("--network: ") && Catch::Contains("no column 'workload'"));
}

TEST_CASE("an --out that is also an input is refused by name, and the input kept") {
  Scratch scratch;
  const std::string csv = scratch.file("measured.csv");
  std::ofstream(csv)
      << "schema_version,workload,phase,status,backend,ranks,threads,shape,"
         "time_median_s\n13,decoder,decode,ok,openmp,1,2,\"cfg=gpt2-124m,gen=8\",0.1\n";
  const std::string before = read(csv);
  const CliResult m = cli({"model", "--results", csv, "--alpha", "1e-6", "--beta", "1e-9", "--out",
                           scratch.dir.string() + "/./measured.csv"});
  CHECK(m.status == 2);
  CHECK_THAT(m.err, Catch::Contains("--out: ") && Catch::Contains("also the input --results"));
  CHECK(read(csv) == before);
  // The probe cache as a run's results (through another name for the same file).
  const std::string probe_before = read(scratch.probe());
  fs::create_hard_link(scratch.probe(), scratch.file("same-probe.json"));
  const CliResult r = cli({"run", "--workloads", "matmul", "--shapes", "M=8,N=8,K=8",
                           "--trust-probe", "--probe-file", scratch.probe(), "--format", "json",
                           "--out", scratch.file("same-probe.json")});
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::Contains("--out: ") && Catch::Contains("also the input --probe-file"));
  CHECK(read(scratch.probe()) == probe_before);
}

TEST_CASE("output that cannot reach standard output fails the command, and says so") {
  std::ostringstream out, err;
  out.setstate(std::ios::badbit);  // as a full disk, a closed descriptor or a gone reader leave it
  CHECK(run_cli({"machine"}, out, err) == 1);
  CHECK_THAT(err.str(), Catch::Contains("could not be written to standard output"));
  std::ostringstream fine, quiet;
  CHECK(run_cli({"machine"}, fine, quiet) == 0);
  CHECK(quiet.str().empty());
}

TEST_CASE("a command line's mistakes are blamed on what is wrong, and nothing is dropped") {
  Scratch scratch;
  const std::string out = scratch.file("blame.csv");
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{
           {{"run", "--repetitions", "1", "--repetitions", "2", "--out", out},
            "--repetitions: given twice"},
           {{"run", "--repetitions=1", "--repetitions", "2", "--out", out},
            "--repetitions: given twice"},
           {{"--threads", "1", "run"}, "'--threads' comes before the command 'run'"},
           {{"--bogus"}, "'--bogus' before any command"},
           {{"run", "--bogus"}, "(see aigcbench run --help)"},
           {{"run", "--probe-file", "", "--out", out}, "--probe-file: an empty value"},
           {{"run", "--simd-target=", "--out", out}, "--simd-target: an empty value"},
           {{"run", "--threads", "1,,1", "--out", out}, "--threads: item 2 of '1,,1' is empty"},
           {{"run", "--backends", "scalar,", "--out", out}, "--backends: item 2 of"},
           {{"run", "--workloads", "decoder", "--shapes", "cfg=,cfg=tiny", "--out", out},
            "key 'cfg' has no value"},
           {{"generate", "--prompt-ids", "1,,2"}, "--prompt-ids: item 2 of '1,,2' is empty"}}) {
    const CliResult r = cli(c.args);
    INFO(fmt::format("{}", fmt::join(c.args, " ")) << ": " << r.err);
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Catch::Contains(c.says));
    CHECK_THAT(r.err, !Catch::Contains("aigcbench aigcbench"));
  }
  CHECK_FALSE(fs::exists(out));
}

TEST_CASE("a run in which every configuration is skipped exits non-zero and says so") {
  Scratch scratch;
  const std::string out = scratch.file("skipped.csv");
  // A matmul too large for memory is skipped before it is allocated: the whole run is skipped.
  const CliResult r =
      cli({"run", "--workloads", "matmul", "--shapes", "M=60000,N=60000,K=1", "--backends", "simd",
           "--threads", "1", "--repetitions", "2", "--min-time", "0.001", "--trust-probe",
           "--probe-file", scratch.probe(), "--out", out});
  INFO(r.out << r.err);
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Catch::Contains("nothing was measured"));
  CHECK_THAT(read(out), Catch::Contains("skipped: needs"));  // its rows are written all the same
}

TEST_CASE("a run refuses an output another run is writing, and touches nothing") {
  Scratch scratch;
  const std::string out = scratch.file("busy.csv");
  std::ofstream(out) << "earlier,results\n";
  const OutputLock other(out, "out");
  const CliResult r = cli({"run", "--workloads", "matmul", "--shapes", "M=8,N=8,K=8",
                           "--trust-probe", "--probe-file", scratch.probe(), "--out", out});
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::Contains("being written by another run"));
  CHECK(read(out) == "earlier,results\n");
}

TEST_CASE("a shape that cannot fit in memory is a skipped row with its size, and the run goes on") {
  Scratch scratch;
  const std::string out = scratch.file("big.csv");
  // C alone is 13.4 GiB, twice over (the backend's and the verification's copy): more than
  // this machine has, though under the shape parser's fixed cap. It used to be OOM-killed.
  const CliResult r =
      cli({"run", "--workloads", "matmul", "--shapes", "M=60000,N=60000,K=1;M=8,N=8,K=8",
           "--backends", "simd", "--threads", "1", "--repetitions", "2", "--min-time", "0.001",
           "--trust-probe", "--probe-file", scratch.probe(), "--out", out});
  INFO(r.out << r.err);
  CHECK(r.status == 0);
  const std::string csv = read(out);
  CHECK_THAT(csv, Catch::Contains("skipped: needs 26.8") && Catch::Contains("GiB available"));
  CHECK_THAT(csv, Catch::Contains("\"M=8,N=8,K=8\",simd,f32,1,2,"));  // the next shape ran
}

TEST_CASE("the memory available is the least of MemAvailable, the cgroup and ulimit -v") {
  CHECK(available_memory().bytes > 0);
  // In a child, cap the address space at what it uses plus 1 GiB: that cap is what is left.
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    std::ifstream statm("/proc/self/statm");
    double pages = 0;
    statm >> pages;
    const rlim_t used = static_cast<rlim_t>(pages * double(::sysconf(_SC_PAGESIZE)));
    const rlimit cap{used + (rlim_t{1} << 30), used + (rlim_t{1} << 30)};
    ::setrlimit(RLIMIT_AS, &cap);
    const AvailableMemory m = available_memory();
    const std::string answer =
        fmt::format("{}|{}", m.bytes <= double(1ull << 30) ? "capped" : "not", m.source);
    (void)!::write(pipe_fds[1], answer.data(), answer.size());
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  char buf[128] = {};
  (void)!::read(pipe_fds[0], buf, sizeof buf - 1);
  ::close(pipe_fds[0]);
  ::waitpid(child, nullptr, 0);
  CHECK(std::string(buf) == "capped|ulimit -v");
}

TEST_CASE("decoder shape errors quote the shape as typed, and --reprobe=0 means no") {
  check_rejected({"--workloads", "decoder", "--shapes", "cfg=tiny,prompt=0"}, "--shapes",
                 "'cfg=tiny,prompt=0': prompt=0 is out of range (valid: 1..64)");
  check_rejected({"--workloads", "decoder", "--shapes", "cfg=tiny,prompt=8,foo=1"}, "--shapes",
                 "'cfg=tiny,prompt=8,foo=1': unknown key 'foo' (valid: cfg, dtype, kv, prompt");
  Scratch scratch;
  const CliResult r =
      cli({"probe", "--reprobe=0", "--trust-probe", "--probe-file", scratch.probe()});
  CHECK(r.status == 0);
  CHECK_THAT(r.out, Catch::Contains("measured 2026-01-01T00:00:00Z"));  // the cache, not a probe
}
