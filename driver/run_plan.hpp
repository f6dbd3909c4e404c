#pragma once
// `aigcbench run`'s plan: the command line turned, once, into typed configurations. Names are
// looked up and shapes parsed here and nowhere after; each configuration's capability is
// decided here (measure/runner's plan_spec), so a row that cannot run carries its reason from
// the plan on.
#include <vector>

#include "driver/run_command.hpp"
#include "measure/runner.hpp"

namespace aigc {

struct PlannedShape {
  const Workload* workload = nullptr;
  Shape shape;
  BenchSpec unit;  // the serial model's unit of it, on scalar at 1 thread
};

struct RunPlan {
  std::vector<PlannedShape> shapes;  // measured on compute backends
  const Workload* collectives = nullptr;
  std::vector<Shape> collective_shapes;  // measured on MPI ranks
  std::vector<const BackendDescriptor*> backends;
  std::vector<int> threads;
  // Every (shape, backend, threads), in the order they run (on every rank alike).
  std::vector<BenchSpec> specs;
  TimingPolicy timing;
  std::string probe_path;  // --probe-file, or the default cache's path
};

// Everything the user gave, checked before any work: names, shapes, threads, the ranks, the
// output paths. Throws InvalidArgument naming the option.
RunPlan make_run_plan(const RunOptions& o);

}  // namespace aigc
