#pragma once
// `aigcbench run`: benchmark the chosen workloads x shapes x backends x threads, apply
// every timing model, write the tidy CSV atomically and print a summary table.
#include <ostream>
#include <string>
#include <vector>

#include "driver/results_csv.hpp"
#include "models/probe.hpp"
#include "workloads/workload.hpp"

namespace aigc {

struct RunOptions {
  std::vector<std::string> workloads;  // empty: all
  std::vector<std::string> backends;   // empty: all
  std::vector<int> threads;            // empty: 1 and all cores
  Preset preset = Preset::quick;
  std::vector<std::string> shapes;  // overrides the preset's shapes (one workload only)
  std::string out = "aigcbench-results.csv";
  ResultsFormat format = ResultsFormat::csv;  // json: one file, repetitions inside
  int repetitions = 3;
  double min_time_s = 0.1;       // per repetition
  double scalar_budget_s = 2.0;  // scalar runs predicted longer use the serial model
  std::string simd_target;       // force a Highway target ("" = best)
  std::string probe_file;
  bool reprobe = false;
  // Measure a real model's perplexity and greedy agreement per weight format (decoder rows).
  bool accuracy = true;
};

// One measured configuration, before the models are applied.
struct Measurement {
  std::string workload, shape, backend, simd_target;
  std::string dtype = "f32";
  int threads = 1;
  ComputeClass compute_class = ComputeClass::simd_core;  // which roofline ceilings apply
  WorkCounts counts;
  std::vector<double> times_s;
  // Joules per operation of each repetition, from the energy counter named by energy_source
  // (empty where the hardware's counter cannot be read).
  std::vector<double> energy_j;
  std::string energy_source;
  std::optional<double> max_rel_error, tolerance;
  std::optional<double> upload_s, download_s;  // GPU backends only
  std::string status = "ok";
  // A case split over MPI ranks (the decoder's tp=P): their number, the slowest rank's seconds
  // in communication per operation of each repetition, and the same shape's median time in one
  // process on rank 0 alone (same backend and threads): the distributed model's T_compute(1).
  int ranks = 1;
  std::vector<double> comm_s;
  std::optional<double> one_rank_s;
};

// What the serial model knows about one shape: T_single of one unit on scalar.
struct SerialBaseline {
  std::optional<double> t_single_s;
  long long n_units = 1;
};

// Applies the serial, parallel, accelerated and roofline models to measurements of one
// run, producing the CSV rows (machine fingerprint left to the caller).
std::vector<ResultRow> apply_models(const std::vector<Measurement>& measurements,
                                    const std::map<std::string, SerialBaseline>& baselines,
                                    const ProbeResult& probe);

// Validates everything first (names, shapes, threads, the output path), so that bad
// input fails before any work and leaves an existing results file untouched.
int run_command(const RunOptions& options, std::ostream& out, std::ostream& err);

}  // namespace aigc
