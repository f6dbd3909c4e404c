// The onednn backend: host memory, and the oneDNN primitives its op files (<op>.cpp beside
// this one) register.
#include "kernels/onednn/backend.hpp"

#include <omp.h>

#include "core/host_backend.hpp"
#include "kernels/onednn/engine.hpp"

namespace aigc {
namespace {

std::string onednn_description() {
  const dnnl_version_t* v = dnnl_version();
  return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
         std::to_string(v->patch) + " primitives (the vendor library on the CPU)";
}

}  // namespace

KernelTable& onednn::kernels() {
  static KernelTable table("onednn");
  return table;
}

// No rmsnorm: oneDNN 2.6's layer normalization always subtracts the mean (RMS normalization
// arrived in oneDNN 3.x), and a composition of our own would not be the vendor's kernel.
// Listed in kernels/registry.cpp.
const BackendDescriptor& onednn_descriptor() {
  static const BackendDescriptor d{
      .name = "onednn",
      .description = onednn_description(),
      .compute_class = ComputeClass::simd_core,
      .kernels = [] { return &onednn::kernels(); },
      // bf16 weights: oneDNN 2.6's matmul takes bf16 only against bf16 activations, so A is
      // reordered to bf16 inside the op. Its other formats' weights (f16 alone, the blocks of
      // q8_0, q4_0, q4_1) arrived in oneDNN 3.x: skipped by name.
      .weight_formats = {WeightFormat::f32, WeightFormat::bf16},
      .bf16_activations = {WeightFormat::bf16},
      .max_threads = [] { return 4 * omp_get_num_procs(); },
      .simd_target = [] { return "onednn:" + onednn::effective_isa(); },
      .make = [] { return std::unique_ptr<Backend>(new HostBackend(onednn_descriptor())); }};
  return d;
}

}  // namespace aigc
