#pragma once
// `aigcbench run`: benchmark the chosen workloads x shapes x backends x threads, apply
// every timing model, write the tidy CSV atomically and print a summary table.
#include <ostream>
#include <string>
#include <vector>

#include "driver/results_csv.hpp"
#include "timing/probe.hpp"
#include "workloads/workload.hpp"

namespace aigc {

struct RunOptions {
  // Looked up once, by the command line.
  std::vector<const Workload*> workloads;          // empty: all in the default run
  std::vector<const BackendDescriptor*> backends;  // empty: all available
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
  bool trust_probe = false;  // use a cached probe without the spot check
  // Measure a real model's perplexity and greedy agreement per weight format (decoder rows).
  bool accuracy = true;
};

// Validates everything first (driver/run_plan: names, shapes, threads, the output path), so that
// bad input fails before any work and leaves an existing results file untouched.
int run_command(const RunOptions& options, std::ostream& out, std::ostream& err);

}  // namespace aigc
