#pragma once
// A workload (matmul, attention, decoder) describes its shapes, its analytic cost and
// its unit of work, and builds a runnable, verifiable case for one shape on one backend.
// The driver and the benchmark binaries only see this interface.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/backend.hpp"
#include "workloads/shape.hpp"

namespace aigc {

// smoke: tiny shapes for tests; quick: the default run; full: every shape; gpu: the shapes
// that answer the GPU targets (scripts/gpu-check.sh), sized for a GPU's few minutes.
enum class Preset { smoke, quick, full, gpu };

struct WorkCounts {
  double flops = 0;          // arithmetic of one instance
  double bytes = 0;          // minimum traffic: each input read once, each output written once
  std::int64_t n_units = 1;  // independent units of work (serial model)
  // Bytes that must stay resident while it runs (weights and KV cache of a decoder), which
  // picks the memory level whose bandwidth the roofline uses; 0: the same as `bytes`.
  double working_set = 0;
  std::int64_t tokens = 0;  // tokens an instance processes (decoder), for tokens/s
  // Memory a case holds, checked against what is available before anything is allocated:
  // the case's own host copies (inputs kept for the reference, the verification's outputs) and
  // the backend's buffers (host memory on a CPU backend, device memory on a GPU).
  double host_bytes = 0, backend_bytes = 0;
};

// One shape on one backend: inputs uploaded, kernel prepared, ready to run.
class WorkloadCase {
 public:
  virtual ~WorkloadCase() = default;
  // The timed operation; returns when the output is complete.
  virtual void run() = 0;
  // Poisons the output, runs once, and returns the maximum relative error against
  // the float64 reference (NaN or infinity when an element is wrong or unwritten).
  virtual double verify() = 0;
  // The error above which verify() means the backend is wrong, derived from the arithmetic.
  virtual double tolerance() const = 0;
  // Seconds this rank has spent in communication between ranks since the case was made (a
  // tensor-parallel decoder's collectives); none for a case in one process, or where the
  // communication cannot be timed apart (NCCL's, queued among the kernels).
  virtual std::optional<double> communication_s() const { return std::nullopt; }
};

// A workload's methods take its shapes as parsed once by parse() (workloads/shape.hpp): a
// shape is never parsed again after the command line.
class Workload {
 public:
  virtual ~Workload() = default;
  virtual std::string name() const = 0;
  // Whether `aigcbench run` without --workloads runs it (the per-op rows are asked for by name).
  virtual bool in_default_run() const { return true; }
  // Whether its cases run on MPI ranks instead of a compute backend (collectives): the run
  // measures them through distributed/, and make_case refuses.
  virtual bool distributed() const { return false; }
  // Shapes as text ("M=1024,N=1024,K=1024"), for parse().
  virtual std::vector<std::string> preset_shapes(Preset preset) const = 0;
  // Parses and validates a user's shape; throws InvalidArgument naming `shapes`.
  virtual Shape parse(const std::string& text) const = 0;
  // The CSV's phase column ("prefill", "decode"; empty where the workload has none).
  virtual std::string phase(const Shape& /*shape*/) const { return ""; }
  virtual WorkCounts counts(const Shape& shape) const = 0;
  // The ops a case of this shape runs: a backend that lacks one is skipped before anything is
  // built ("<backend> has no <op> for <dtype>").
  virtual std::vector<Op> ops(const Shape& shape) const = 0;
  // The formats its weights are stored in (one, or a file's several): a backend whose matmul
  // lacks one is skipped before anything is built ("<backend> has no matmul for q4_1 weights").
  virtual std::vector<WeightFormat> weight_formats(const Shape& /*shape*/) const {
    return {WeightFormat::f32};
  }
  // The CSV's dtype where the shape stores its weights other than in f32 (a format's name, or
  // "file": each matrix as the model's file stores it); empty otherwise (the column then
  // names the backend's arithmetic).
  virtual std::string stored_dtype(const Shape& /*shape*/) const { return ""; }
  // The same shape with f32 weights (the twin a stored dtype is held against); the shape
  // itself where the workload has no formats.
  virtual Shape with_f32_weights(const Shape& shape) const { return shape; }
  // The number of independent sequences a step serves together (the decoder's batch=B), and
  // the same shape with another batch: the run derives the batch where the roofline turns
  // from bandwidth to compute (knee_batch) from the counts of batch 1 and 2. 1 and the shape
  // itself where the workload has no batch.
  virtual std::int64_t batch(const Shape& /*shape*/) const { return 1; }
  virtual Shape with_batch(const Shape& shape, std::int64_t /*batch*/) const { return shape; }
  // The MPI ranks a case of this shape runs on together (the decoder's tp=P), and the same
  // shape on another number of ranks: 1 and the shape itself where one process runs it.
  virtual int ranks(const Shape& /*shape*/) const { return 1; }
  virtual Shape with_ranks(const Shape& shape, int /*ranks*/) const { return shape; }
  // The shape of one unit of work, run alone on the scalar backend for the serial model.
  virtual Shape unit_shape(const Shape& shape) const = 0;
  virtual std::unique_ptr<WorkloadCase> make_case(Backend& backend, const Shape& shape) const = 0;
};

std::vector<std::string> workload_names();
// Those a run without --workloads runs.
std::vector<std::string> default_workload_names();
std::vector<const Workload*> default_workloads();
// Throws InvalidArgument("workloads", ...) for an unknown name.
const Workload& find_workload(const std::string& name);

}  // namespace aigc
