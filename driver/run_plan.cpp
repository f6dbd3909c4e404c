#include "driver/run_plan.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/errors.hpp"
#include "core/files.hpp"
#include "core/machine.hpp"
#include "distributed/communicator.hpp"
#include "kernels/platform.hpp"
#include "kernels/registry.hpp"
#include "timing/probe.hpp"

namespace aigc {
namespace {

// Appends `value` unless it is there already; says whether it did.
template <typename T>
bool add_once(std::vector<T>& list, const T& value) {
  if (std::find(list.begin(), list.end(), value) != list.end()) return false;
  list.push_back(value);
  return true;
}

std::vector<const Workload*> chosen_workloads(const RunOptions& o) {
  return o.workloads.empty() ? default_workloads() : o.workloads;
}

// By default every backend that can run here; one named explicitly runs or is recorded as
// skipped with its reason. A configuration named twice is measured once.
std::vector<const BackendDescriptor*> chosen_backends(const RunOptions& o) {
  std::vector<const BackendDescriptor*> backends;
  if (o.backends.empty()) {
    for (const BackendDescriptor* d : backend_descriptors()) {
      if (d->availability().available) backends.push_back(d);
    }
  }
  for (const BackendDescriptor* d : o.backends) add_once(backends, d);
  return backends;
}

// The one workload among `workloads` that reads `text` as a shape, with the shape it read, or
// InvalidArgument.
std::pair<const Workload*, Shape> reader_of(const std::string& text,
                                            const std::vector<const Workload*>& workloads) {
  std::vector<std::pair<const Workload*, Shape>> readers;
  std::string problems;
  for (const Workload* w : workloads) {
    try {
      readers.emplace_back(w, w->parse(text));
    } catch (const InvalidArgument& e) {
      problems += fmt::format("{}{}: {}", problems.empty() ? "" : "; ", w->name(), e.detail());
    }
  }
  if (readers.size() == 1) return readers.front();
  throw InvalidArgument(
      "shapes",
      readers.empty()
          ? fmt::format("'{}' is a shape of none of the workloads chosen ({})", text, problems)
          : fmt::format("'{}' reads as a shape of several workloads chosen: choose one "
                        "with --workloads",
                        text));
}

// Shapes given with several workloads go each to the one workload that reads it, parsed; a
// workload given none runs its preset's (`--workloads collectives,decoder --shapes cfg=...,tp=2`).
std::map<const Workload*, std::vector<Shape>> route_shapes(
    const RunOptions& o, const std::vector<const Workload*>& workloads) {
  if (!o.shapes.empty() && o.workloads.empty()) {
    throw InvalidArgument("shapes",
                          "shapes belong to the workloads named: choose them with "
                          "--workloads");
  }
  std::map<const Workload*, std::vector<Shape>> given;
  for (const std::string& text : o.shapes) {
    if (workloads.size() == 1) {
      given[workloads.front()].push_back(workloads.front()->parse(text));
    } else {
      auto [w, shape] = reader_of(text, workloads);
      given[w].push_back(std::move(shape));
    }
  }
  return given;
}

// Every workload's shapes, parsed once; collectives apart (they run on ranks, not backends).
void add_shapes(RunPlan& plan, const RunOptions& o, const std::vector<const Workload*>& workloads) {
  const auto given = route_shapes(o, workloads);
  const BackendDescriptor& scalar = scalar_descriptor();
  for (const Workload* w : workloads) {
    const auto mine = given.find(w);
    std::vector<Shape> shapes;
    if (mine != given.end()) {
      shapes = mine->second;
    } else {
      for (const std::string& text : w->preset_shapes(o.preset)) shapes.push_back(w->parse(text));
    }
    std::vector<Shape> seen;
    for (Shape& shape : shapes) {
      if (!add_once(seen, shape)) continue;
      if (w->distributed()) {
        plan.collectives = w;
        plan.collective_shapes.push_back(std::move(shape));
        continue;
      }
      BenchSpec unit = plan_spec(*w, w->unit_shape(shape), scalar, 1);
      plan.shapes.push_back({.workload = w, .shape = std::move(shape), .unit = std::move(unit)});
    }
  }
}

// Under mpirun -np P the compute shapes are those split over exactly P ranks (tp=P).
void check_ranks(const RunPlan& plan) {
  const int ranks = dist::world_size();
  for (const PlannedShape& p : plan.shapes) {
    const int split = p.workload->ranks(p.shape);
    if (split == ranks) continue;
    if (split > 1) {
      throw InvalidArgument("shapes", fmt::format("'{}': tp={} needs a run of {} ranks, and this "
                                                  "one has {} (start it with mpirun -np {})",
                                                  p.shape.text(), split, split, ranks, split));
    }
    throw InvalidArgument(
        "workloads",
        fmt::format("{} runs in one process ('{}'), and this run has {} ranks: start it without "
                    "mpirun (or with -np 1); under mpirun only collectives and decoder shapes "
                    "with tp={} run",
                    p.workload->name(), p.shape.text(), ranks, ranks));
  }
}

// The thread counts: as given, else 1 and all cores (under P ranks, cores / P each).
std::vector<int> plan_threads(const RunOptions& o,
                              const std::vector<const BackendDescriptor*>& backends) {
  std::vector<int> threads;
  for (const int t : o.threads) add_once(threads, t);
  const int cores = machine_info().cores, ranks = dist::world_size();
  if (threads.empty() && ranks > 1) {
    threads = {std::max(1, cores / ranks)};  // the ranks share the cores
  } else if (threads.empty()) {
    threads = {1};
    if (cores > 1) threads.push_back(cores);
  }
  for (const BackendDescriptor* d : backends) {
    for (const int t : threads) {
      if (d->is_multithreaded() && (t < 1 || t > d->max_threads())) {
        throw InvalidArgument("threads", fmt::format("{} is out of range for backend '{}' "
                                                     "(valid: 1..{})",
                                                     t, d->name, d->max_threads()));
      }
    }
  }
  return threads;
}

}  // namespace

RunPlan make_run_plan(const RunOptions& o) {
  // The cheap checks first: a bad target or output is refused before any model file is looked
  // up for the shapes (and says so where a model's file is not installed).
  platform::force_target(o.simd_target);
  // The probe cache is read (and written by a re-probe): an --out naming it would replace the
  // machine's ceilings with results.
  const std::string probe_path = o.probe_file.empty() ? default_probe_path() : o.probe_file;
  const std::vector<std::pair<std::string, std::string>> inputs = {
      {"probe-file", probe_cache_path(probe_path)}};
  for (const std::string& path : {o.out, repetitions_path(o.out)}) {
    if (path != o.out && o.format != ResultsFormat::csv) continue;
    check_writable(path, "out");
    refuse_output_over_input(path, "out", inputs);
  }
  const std::vector<const Workload*> workloads = chosen_workloads(o);
  RunPlan plan;
  plan.probe_path = probe_path;
  plan.backends = chosen_backends(o);
  add_shapes(plan, o, workloads);
  check_ranks(plan);
  plan.threads = plan_threads(o, plan.backends);
  plan.timing = {o.repetitions, o.min_time_s};
  // The capability of every configuration, decided once (after the SIMD target is pinned:
  // a backend's target is part of what it is).
  for (const PlannedShape& p : plan.shapes) {
    for (BenchSpec& spec : expand_specs(*p.workload, {p.shape}, plan.backends, plan.threads))
      plan.specs.push_back(std::move(spec));
  }
  return plan;
}

}  // namespace aigc
