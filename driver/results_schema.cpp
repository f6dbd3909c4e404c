#include "driver/results_schema.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/weight_format.hpp"

namespace aigc {
namespace {

using T = ColumnType;

Cell text(const std::string& s) { return s; }
Cell number(const std::optional<double>& v) { return v ? Cell(*v) : Cell(); }
template <typename Int>
Cell integer(const std::optional<Int>& v) {
  return v ? Cell(static_cast<long long>(*v)) : Cell();
}

// clang-format off
#define AIGC_COLUMN(name, type, unit, meaning, filled, expr) \
  ResultColumn{name, type, unit, meaning, filled, []([[maybe_unused]] const ResultRow& r) -> Cell { return expr; }}

// The dtype column's words: the format table's names (core/weight_format).
const std::string kDtypeMeaning = fmt::format(
    "weight format ({}; file: each matrix as the model's file stores it) or, for f32 "
    "weights, the backend's arithmetic (bf16: cuda-bf16)",
    weight_format_names());

const std::vector<ResultColumn> kColumns{
  AIGC_COLUMN("schema_version", T::integer, "", "version of this table; any change of columns bumps it", "always", Cell(static_cast<long long>(kResultsSchemaVersion))),
  AIGC_COLUMN("run_id", T::text, "", "one id per `aigcbench run` (UTC time and process id)", "always", text(r.run_id)),
  AIGC_COLUMN("timestamp", T::text, "", "when the run wrote its results (UTC, ISO 8601)", "always", text(r.timestamp)),
  AIGC_COLUMN("machine", T::text, "", "hardware id: vendor, CPU, cores, SIMD target, GPU (AIGCBENCH_MACHINE overrides)", "always", text(r.machine)),
  AIGC_COLUMN("host", T::text, "", "host name (not an identity: VMs share names)", "always", text(r.host)),
  AIGC_COLUMN("cpu_model", T::text, "", "CPU model name as /proc/cpuinfo reports it", "always", text(r.cpu_model)),
  AIGC_COLUMN("cores", T::integer, "", "logical CPUs available to the process", "always", Cell(static_cast<long long>(r.cores))),
  AIGC_COLUMN("simd_target", T::text, "", "instruction set that ran (Highway target, oneDNN ISA, GPU sm_XX, none)", "always", text(r.simd_target)),
  AIGC_COLUMN("gpu_name", T::text, "", "GPU 0's name", "on a machine with a usable GPU", text(r.gpu_name)),
  AIGC_COLUMN("compiler", T::text, "", "compiler of the build", "always", text(r.compiler)),
  AIGC_COLUMN("build_type", T::text, "", "CMake build type", "always", text(r.build_type)),
  AIGC_COLUMN("workload", T::text, "", "matmul, attention, decoder", "always", text(r.workload)),
  AIGC_COLUMN("phase", T::text, "", "prefill or decode (decoder); empty elsewhere", "decoder rows", text(r.phase)),
  AIGC_COLUMN("shape", T::text, "", "canonical shape string (key=value,...)", "always", text(r.shape)),
  AIGC_COLUMN("backend", T::text, "", "backend name", "always", text(r.backend)),
  AIGC_COLUMN("dtype", T::text, "", kDtypeMeaning.c_str(), "always", text(r.dtype)),
  AIGC_COLUMN("threads", T::integer, "", "threads the backend ran with", "always", Cell(static_cast<long long>(r.threads))),
  AIGC_COLUMN("repetitions", T::integer, "", "timed repetitions after warm-up", "rows with a time", integer(r.repetitions)),
  AIGC_COLUMN("time_median_s", T::number, "s", "median time of one operation over the repetitions", "rows with a time", number(r.time_median_s)),
  AIGC_COLUMN("time_min_s", T::number, "s", "fastest repetition", "rows with a time", number(r.time_min_s)),
  AIGC_COLUMN("time_max_s", T::number, "s", "slowest repetition", "rows with a time", number(r.time_max_s)),
  AIGC_COLUMN("time_cv", T::number, "", "coefficient of variation of the repetitions", "rows with a time", number(r.time_cv)),
  AIGC_COLUMN("flops", T::number, "FLOP", "analytic floating-point operations of one instance", "always (workload's count)", number(r.flops)),
  AIGC_COLUMN("bytes", T::number, "B", "analytic minimum traffic: inputs read once, outputs written once", "always (workload's count)", number(r.bytes)),
  AIGC_COLUMN("arithmetic_intensity", T::number, "FLOP/B", "flops / bytes", "always", number(r.arithmetic_intensity)),
  AIGC_COLUMN("achieved_flops", T::number, "FLOP/s", "flops / time_median_s", "rows with a time", number(r.achieved_flops)),
  AIGC_COLUMN("achieved_bytes_per_s", T::number, "B/s", "bytes / time_median_s", "rows with a time", number(r.achieved_bytes_per_s)),
  AIGC_COLUMN("tokens_per_s", T::number, "tokens/s", "prompt tokens / TTFT (prefill) or generated tokens per second (decode; a batch's aggregate over its sequences)", "decoder rows with a time", number(r.tokens_per_s)),
  AIGC_COLUMN("batch", T::integer, "", "sequences decoded together (batch=B; 1 for a single sequence)", "decoder rows", integer(r.batch)),
  AIGC_COLUMN("ms_per_token", T::number, "ms", "the latency each sequence sees: time / generated tokens per sequence", "decoder decode rows with a time", number(r.ms_per_token)),
  AIGC_COLUMN("knee_batch", T::number, "", "B*: the batch at which the roofline's compute time (FLOPs grow with B) meets its bandwidth time (weights once per step, each sequence's cache), from the measured peaks; empty where compute never catches up", "decoder decode rows with the peaks", number(r.knee_batch)),
  AIGC_COLUMN("baseline_time_s", T::number, "s", "scalar single-thread time of the same shape", "when the scalar row ran or the serial model predicts it", number(r.baseline_time_s)),
  AIGC_COLUMN("baseline_source", T::text, "", "measured or serial_model", "with baseline_time_s", text(r.baseline_source)),
  AIGC_COLUMN("speedup_vs_scalar", T::number, "", "baseline_time_s / time_median_s (accelerated model, measured S)", "rows with a time and a baseline", number(r.speedup_vs_scalar)),
  AIGC_COLUMN("t_single_s", T::number, "s", "one unit of work alone on scalar (serial model's T_single)", "when the unit ran", number(r.t_single_s)),
  AIGC_COLUMN("n_units", T::integer, "", "units of work in one instance (serial model's N)", "always", integer(r.n_units)),
  AIGC_COLUMN("t_serial_model_s", T::number, "s", "T_single * N", "with t_single_s", number(r.t_serial_model_s)),
  AIGC_COLUMN("serial_model_error", T::number, "", "(measured - T_single*N) / T_single*N", "scalar rows with a time", number(r.serial_model_error)),
  AIGC_COLUMN("t1_s", T::number, "s", "the same backend's median at one thread", "when the 1-thread row ran", number(r.t1_s)),
  AIGC_COLUMN("parallel_speedup", T::number, "", "t1_s / time_median_s", "with t1_s", number(r.parallel_speedup)),
  AIGC_COLUMN("parallel_efficiency", T::number, "", "t1_s / (threads * time_median_s)", "with t1_s", number(r.parallel_efficiency)),
  AIGC_COLUMN("karp_flatt", T::number, "", "experimentally determined serial fraction", "threads > 1 with t1_s", number(r.karp_flatt)),
  AIGC_COLUMN("peak_flops", T::number, "FLOP/s", "measured compute ceiling for this backend class, dtype and threads", "when the probe covers the backend", number(r.peak_flops)),
  AIGC_COLUMN("peak_bytes_per_s", T::number, "B/s", "measured bandwidth at the working set's memory level", "when the probe covers the backend", number(r.peak_bytes_per_s)),
  AIGC_COLUMN("t_roofline_s", T::number, "s", "max(flops / peak_flops, bytes / peak_bytes_per_s)", "with the peaks", number(r.t_roofline_s)),
  AIGC_COLUMN("roofline_fraction", T::number, "", "t_roofline_s / time_median_s", "rows with a time and the peaks", number(r.roofline_fraction)),
  AIGC_COLUMN("above_roofline", T::integer, "", "1 when roofline_fraction > 1: the run beat its ceilings, so a ceiling is wrong (the run warns); else 0", "rows with roofline_fraction", r.roofline_fraction ? Cell(static_cast<long long>(above_roofline(r))) : Cell()),
  AIGC_COLUMN("bound", T::text, "", "compute or memory: which roofline term is larger", "with the peaks", text(r.bound)),
  AIGC_COLUMN("predicted_speedup", T::number, "", "S_pred: scalar-core roofline time / this backend's roofline time", "with the peaks", number(r.predicted_speedup)),
  AIGC_COLUMN("captured_speedup_fraction", T::number, "", "speedup_vs_scalar / predicted_speedup", "with both", number(r.captured_speedup_fraction)),
  AIGC_COLUMN("upload_s", T::number, "s", "host-to-device copies at set-up, outside the timed region", "GPU rows", number(r.upload_s)),
  AIGC_COLUMN("download_s", T::number, "s", "device-to-host copies of the verification run", "GPU rows", number(r.download_s)),
  AIGC_COLUMN("format_speedup", T::number, "", "time of the same shape in f32 / this time (a weight format's measured S over fp32, same backend and threads)", "rows with a stored weight format whose f32 twin ran", number(r.format_speedup)),
  AIGC_COLUMN("format_speedup_pred", T::number, "", "the f32 twin's roofline time / this roofline time (S_pred of the format: the ratio of bytes where both are memory-bound)", "rows with a stored weight format and the peaks", number(r.format_speedup_pred)),
  AIGC_COLUMN("perplexity", T::number, "", "the model in this weight format on the evaluation text (data/text, every token), measured once per run on openmp", "decoder rows of a real model (smollm2-135m)", number(r.perplexity)),
  AIGC_COLUMN("perplexity_f32", T::number, "", "the same model's perplexity with fp32 weights", "with perplexity", number(r.perplexity_f32)),
  AIGC_COLUMN("greedy_agreement", T::number, "", "fraction of 64 greedy tokens (after the text's first 32) equal to the fp32 model's", "with perplexity", number(r.greedy_agreement)),
  AIGC_COLUMN("energy_j", T::number, "J", "energy of one operation (median over the repetitions), from the counter energy_source names: CPU packages for CPU backends (so the whole package, idle cores included), the GPU for GPU backends", "rows with a time where the machine's energy counter can be read (RAPL, NVML)", number(r.energy_j)),
  AIGC_COLUMN("avg_power_w", T::number, "W", "energy over time of each repetition (median)", "with energy_j", number(r.avg_power_w)),
  AIGC_COLUMN("joules_per_token", T::number, "J", "energy_j / tokens of the operation", "decoder rows with energy_j", number(r.joules_per_token)),
  AIGC_COLUMN("flop_per_joule", T::number, "FLOP/J", "flops / energy_j", "with energy_j", number(r.flop_per_joule)),
  AIGC_COLUMN("energy_source", T::text, "", "the counter read: rapl:<package zones> or nvml:<device>", "with energy_j", text(r.energy_source)),
  AIGC_COLUMN("ranks", T::integer, "", "MPI ranks of the run (mpirun -np P); 1 for a single process", "always", Cell(static_cast<long long>(r.ranks))),
  AIGC_COLUMN("t_comm_s", T::number, "s", "time in communication of one instance: a collective's median time; on a tensor-parallel row (tp=P) the slowest rank's seconds inside the collectives, median over the repetitions (waiting for the other ranks included)", "collectives and tensor-parallel rows with a time", number(r.t_comm_s)),
  AIGC_COLUMN("alpha_s", T::number, "s", "Hockney latency alpha of this row's operation, fitted over the run's sizes of it (relative least squares)", "collectives rows, two sizes or more of the operation", number(r.alpha_s)),
  AIGC_COLUMN("beta_s_per_byte", T::number, "s/B", "Hockney inverse bandwidth beta of the same fit", "with alpha_s", number(r.beta_s_per_byte)),
  AIGC_COLUMN("t_comm_fit_s", T::number, "s", "alpha_s + bytes * beta_s_per_byte: the operation's own alpha-beta fit at this size; on a tensor-parallel row, its collectives (2 layers + 1 allreduces and a logits allgather per step) priced by the run's own allreduce and allgather fits", "with alpha_s; tensor-parallel rows when the run measured allreduce and allgather", number(r.t_comm_fit_s)),
  AIGC_COLUMN("t_comm_model_s", T::number, "s", "the distributed model's time: the operation's textbook algorithm on `ranks` ranks from the point-to-point (ping-pong) alpha and beta (ring allreduce 2(P-1) a + 2(P-1)/P n b, ring allgather (P-1) a + (P-1)/P n b, binomial broadcast ceil(log2 P)(a + n b)); on a tensor-parallel row, its collectives at those costs", "collectives and tensor-parallel rows when the run has ping-pong rows of two sizes or more", number(r.t_comm_model_s)),
  AIGC_COLUMN("t_one_rank_s", T::number, "s", "the same shape in one process (tp=1) on rank 0 alone, same backend and threads, measured in the same run: T_compute(1 rank)", "tensor-parallel rows", number(r.t_one_rank_s)),
  AIGC_COLUMN("t_wall_model_s", T::number, "s", "the distributed model: T_compute(1 rank) / P + t_comm_model_s (its cost in node-time is P times this)", "tensor-parallel rows with t_one_rank_s and t_comm_model_s", number(r.t_wall_model_s)),
  AIGC_COLUMN("distributed_efficiency", T::number, "", "t_one_rank_s / (ranks * time_median_s): the speedup over one rank per rank", "tensor-parallel rows with t_one_rank_s", number(r.distributed_efficiency)),
  AIGC_COLUMN("max_rel_error", T::number, "", "largest relative error against the float64 reference (on the weights as the format keeps them)", "rows that were verified", number(r.max_rel_error)),
  AIGC_COLUMN("error_tolerance", T::number, "", "the bound max_rel_error was held to, derived from the arithmetic", "rows that were verified", number(r.error_tolerance)),
  AIGC_COLUMN("status", T::text, "", "ok, skipped: <reason>, error: <message>", "always", text(r.status)),
};
#undef AIGC_COLUMN
// clang-format on

}  // namespace

const std::vector<ResultColumn>& result_columns() { return kColumns; }

void set_time_columns(ResultRow& r, const SampleStats& st) {
  r.repetitions = st.count;
  r.time_median_s = st.median;
  r.time_min_s = st.min;
  r.time_max_s = st.max;
  r.time_cv = st.cv;
  if (r.flops) r.achieved_flops = *r.flops / st.median;
  if (r.bytes) r.achieved_bytes_per_s = *r.bytes / st.median;
}

const char* column_type_name(ColumnType type) {
  switch (type) {
    case ColumnType::integer:
      return "integer";
    case ColumnType::number:
      return "number";
    case ColumnType::text:
      return "text";
  }
  return "text";
}

std::string schema_as_text() {
  std::string out = fmt::format("results schema version {}: one row per measured configuration\n",
                                kResultsSchemaVersion);
  out += fmt::format("{:<26} {:<8} {:<9} {}\n", "column", "type", "unit", "meaning [filled]");
  for (const ResultColumn& c : kColumns) {
    out += fmt::format("{:<26} {:<8} {:<9} {} [{}]\n", c.name, column_type_name(c.type),
                       *c.unit != '\0' ? c.unit : "-", c.meaning, c.filled);
  }
  return out;
}

std::string schema_as_json() {
  nlohmann::ordered_json j;
  j["schema_version"] = kResultsSchemaVersion;
  nlohmann::ordered_json cols = nlohmann::ordered_json::array();
  for (const ResultColumn& c : kColumns) {
    cols.push_back({{"name", c.name},
                    {"type", column_type_name(c.type)},
                    {"unit", c.unit},
                    {"meaning", c.meaning},
                    {"filled", c.filled}});
  }
  j["columns"] = cols;
  return j.dump(2) + "\n";
}

}  // namespace aigc
