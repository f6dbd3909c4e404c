#include "kernels/registry.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace aigc {

std::unique_ptr<Backend> make_scalar_backend();
std::unique_ptr<Backend> make_simd_backend();
std::unique_ptr<Backend> make_openmp_backend();
std::unique_ptr<Backend> make_onednn_backend();
std::unique_ptr<Backend> make_cuda_naive_backend();
std::unique_ptr<Backend> make_cuda_tiled_backend();
std::unique_ptr<Backend> make_cuda_backend();
std::unique_ptr<Backend> make_cuda_bf16_backend();
std::unique_ptr<Backend> make_cublas_backend();

namespace {

struct Entry {
  const char* name;
  std::unique_ptr<Backend> (*make)();
};

constexpr Entry kBackends[] = {
    {"scalar", make_scalar_backend},
    {"simd", make_simd_backend},
    {"openmp", make_openmp_backend},
    {"onednn", make_onednn_backend},
    // GPU: the steps of our own kernels, then the vendor library.
    {"cuda-naive", make_cuda_naive_backend},
    {"cuda-tiled", make_cuda_tiled_backend},
    {"cuda", make_cuda_backend},
    {"cuda-bf16", make_cuda_bf16_backend},
    {"cublas", make_cublas_backend},
};

}  // namespace

std::vector<std::string> backend_names() {
  std::vector<std::string> names;
  for (const Entry& e : kBackends) names.emplace_back(e.name);
  return names;
}

std::vector<std::string> available_backend_names() {
  std::vector<std::string> names;
  for (const Entry& e : kBackends) {
    if (e.make()->availability().available) names.emplace_back(e.name);
  }
  return names;
}

std::unique_ptr<Backend> make_backend(const std::string& name) {
  for (const Entry& e : kBackends) {
    if (name == e.name) return e.make();
  }
  throw InvalidArgument("backends", fmt::format("unknown backend '{}' (valid: {})", name,
                                                fmt::join(backend_names(), ", ")));
}

}  // namespace aigc
