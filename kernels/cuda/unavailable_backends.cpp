// Built instead of the GPU backends when no CUDA toolkit was found: the names stay listed
// (so `aigcbench list` and a run say why they cannot run) and any use says so.
#include <fmt/format.h>

#include "core/backend.hpp"
#include "kernels/cuda/device_query.hpp"

namespace aigc {
namespace {

class NotBuiltBackend final : public Backend {
 public:
  explicit NotBuiltBackend(std::string name) : name_(std::move(name)) {}
  std::string name() const override { return name_; }
  std::string description() const override { return "GPU backend (not built)"; }
  Availability availability() const override { return {false, cuda::query_devices().reason}; }
  ComputeClass compute_class() const override { return ComputeClass::gpu; }
  std::string simd_target() const override { return "none"; }
  Buffer allocate(std::size_t) override { throw unavailable(); }
  void upload(Buffer&, std::span<const float>) override { throw unavailable(); }
  void download(const Buffer&, std::span<float>) override { throw unavailable(); }

 private:
  std::runtime_error unavailable() const {
    return std::runtime_error(
        fmt::format("backend '{}' unavailable: {}", name_, availability().reason));
  }
  std::string name_;
};

}  // namespace

std::unique_ptr<Backend> make_cuda_backend() { return std::make_unique<NotBuiltBackend>("cuda"); }
std::unique_ptr<Backend> make_cuda_naive_backend() {
  return std::make_unique<NotBuiltBackend>("cuda-naive");
}
std::unique_ptr<Backend> make_cuda_tiled_backend() {
  return std::make_unique<NotBuiltBackend>("cuda-tiled");
}
std::unique_ptr<Backend> make_cuda_bf16_backend() {
  return std::make_unique<NotBuiltBackend>("cuda-bf16");
}
std::unique_ptr<Backend> make_cublas_backend() { return std::make_unique<NotBuiltBackend>("cublas"); }

}  // namespace aigc
