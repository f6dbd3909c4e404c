// The emulator's own checks can fail (a deadlocked barrier, a bad shuffle mask, unwritten
// shared memory, a launch past CUDA's limits), and the GPU backend's error paths that need a
// device run on the emulated one: a capture that fails leaves no stale error behind, copies
// are checked against allocations, graph replays rerun the recorded launches.
#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/float16.hpp"
#include "core/random.hpp"
#include "core/verify.hpp"
#include "core/weight_format.hpp"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/gpu_backend.hpp"
#include "kernels/cuda/launch.hpp"
#include "kernels/registry.hpp"

using namespace aigc;

namespace {

__global__ void early_return_then_barrier(int* out) {
  if (threadIdx.x == 0) return;
  __syncthreads();
  out[threadIdx.x] = 1;
}

__global__ void shuffle_outside_mask(float* out) {
  // The mask names lanes 0..7, but lane 0 reads lane 8.
  if (threadIdx.x < 8) out[threadIdx.x] = __shfl_xor_sync(0xffu, 1.0f, 8);
}

__global__ void group_sums(float* out) {
  // Groups of 4 lanes, each summing its own lanes' indices: masks per group.
  const int lane = threadIdx.x % 32;
  const unsigned mask = 0xfu << (lane & ~3);
  float v = float(threadIdx.x);
  for (int offset = 2; offset > 0; offset /= 2) v += __shfl_xor_sync(mask, v, offset);
  out[threadIdx.x] = v;
}

__global__ void read_unwritten_shared(float* out) {
  __shared__ float never_written[4];
  out[threadIdx.x] = never_written[threadIdx.x];
}

__global__ void reverse_in_block(const float* in, float* out) {
  __shared__ float tile[256];
  tile[threadIdx.x] = in[blockIdx.x * 256 + threadIdx.x];
  __syncthreads();
  out[blockIdx.x * 256 + threadIdx.x] = tile[255 - threadIdx.x];
}

template <typename T>
T* device_array(std::size_t n) {
  void* p = nullptr;
  REQUIRE(cudaMalloc(&p, n * sizeof(T)) == cudaSuccess);
  return static_cast<T*>(p);
}

}  // namespace

TEST_CASE("emulator: a barrier some threads never reach is a launch failure naming it") {
  int* out = device_array<int>(64);
  cudaGetLastError();
  cuda::launch(early_return_then_barrier, 1, 64, 0, nullptr, out);
  CHECK(cudaGetLastError() == cudaErrorLaunchFailure);
  CHECK_THAT(cuda_emulation::last_launch_failure(),
             Catch::Contains("__syncthreads after some threads returned"));
  cudaFree(out);
}

TEST_CASE("emulator: a shuffle reading outside its mask fails, and group masks sum their group") {
  float* out = device_array<float>(64);
  cudaGetLastError();
  cuda::launch(shuffle_outside_mask, 1, 32, 0, nullptr, out);
  CHECK(cudaGetLastError() == cudaErrorLaunchFailure);
  CHECK_THAT(cuda_emulation::last_launch_failure(),
             Catch::Contains("a shuffle reading a lane outside its mask"));

  cuda::launch(group_sums, 1, 64, 0, nullptr, out);
  REQUIRE(cudaGetLastError() == cudaSuccess);
  std::vector<float> host(64);
  REQUIRE(cudaMemcpyAsync(host.data(), out, 64 * sizeof(float), cudaMemcpyDeviceToHost, nullptr) ==
          cudaSuccess);
  for (int t = 0; t < 64; ++t) {
    const int first = t & ~3;
    CHECK(host[t] == float(4 * first + 6));  // first + (first+1) + (first+2) + (first+3)
  }
  cudaFree(out);
}

TEST_CASE("emulator: shared memory starts as NaN in every block, and barriers order a block") {
  float* out = device_array<float>(4);
  cuda::launch(read_unwritten_shared, 1, 4, 0, nullptr, out);
  REQUIRE(cudaGetLastError() == cudaSuccess);
  std::vector<float> host(4);
  cudaMemcpyAsync(host.data(), out, 4 * sizeof(float), cudaMemcpyDeviceToHost, nullptr);
  for (const float v : host) CHECK(std::isnan(v));
  cudaFree(out);

  const std::size_t n = 3 * 256;
  const auto data = random_uniform(n, 7);
  float* in = device_array<float>(n);
  float* rev = device_array<float>(n);
  cudaMemcpyAsync(in, data.data(), n * sizeof(float), cudaMemcpyHostToDevice, nullptr);
  cuda::launch(reverse_in_block, 3, 256, 0, nullptr, in, rev);
  REQUIRE(cudaGetLastError() == cudaSuccess);
  std::vector<float> got(n);
  cudaMemcpyAsync(got.data(), rev, n * sizeof(float), cudaMemcpyDeviceToHost, nullptr);
  for (std::size_t b = 0; b < 3; ++b) {
    for (std::size_t t = 0; t < 256; ++t) REQUIRE(got[b * 256 + t] == data[b * 256 + 255 - t]);
  }
  cudaFree(in);
  cudaFree(rev);
}

TEST_CASE("emulator: launches past CUDA's limits and copies past an allocation are refused") {
  float* out = device_array<float>(16);
  cudaGetLastError();
  cuda::launch(read_unwritten_shared, dim3(1, 65536), 4, 0, nullptr, out);
  CHECK(cudaGetLastError() == cudaErrorInvalidConfiguration);
  cuda::launch(read_unwritten_shared, 1, 1025, 0, nullptr, out);
  CHECK(cudaGetLastError() == cudaErrorInvalidConfiguration);
  std::vector<float> host(17);
  CHECK(cudaMemcpyAsync(host.data(), out, 17 * sizeof(float), cudaMemcpyDeviceToHost, nullptr) ==
        cudaErrorInvalidValue);
  CHECK(cudaMemcpyAsync(out, host.data(), 16 * sizeof(float), cudaMemcpyDeviceToHost, nullptr) ==
        cudaErrorInvalidValue);  // the wrong direction: the source is not device memory
  cudaGetLastError();
  cudaFree(out);
}

TEST_CASE("emulated GPU backend: a recording that fails leaves no error for the next launch") {
  auto backend = make_backend("cuda");
  const std::int64_t n = 1000;
  const auto a = random_uniform(n, 1), b = random_uniform(n, 2);
  Buffer da = backend->upload_new(a), db = backend->upload_new(b);
  Buffer dy = backend->upload_new(nan_filled(n));
  auto add = backend->make_kernel(ElementwiseShape{ElementwiseOp::add, n});
  // An upload inside a recording: a copy from host memory, which CUDA refuses while capturing.
  CHECK_THROWS_WITH(backend->record([&] {
    add->run(da, &db, dy);
    backend->upload(dy, a);
  }),
                    Catch::Contains("cudaErrorStreamCaptureUnsupported"));
  // The next op runs and its launch check reports nothing of the failed capture.
  add->run(da, &db, dy);
  std::vector<float> y(n);
  backend->download(dy, y);
  for (std::int64_t i = 0; i < n; ++i) REQUIRE(y[i] == a[i] + b[i]);
  // A recording replays what it recorded, with the arguments of the recording.
  Buffer dz = backend->upload_new(nan_filled(n));
  const std::size_t before = cuda_emulation::launches_run();
  auto graph = backend->record([&] { add->run(da, &db, dz); });
  REQUIRE(graph);
  CHECK(cuda_emulation::launches_run() == before);  // recorded, not run
  graph->replay();
  CHECK(cuda_emulation::launches_run() == before + 1);
  std::vector<float> z(n);
  backend->download(dz, z);
  CHECK(z == y);
}

TEST_CASE("emulated GPU backend: every device buffer is released with its owner") {
  const std::size_t before = cuda_emulation::live_allocations();
  {
    auto backend = make_backend("cuda");
    Buffer x = backend->allocate(1 << 20);
    auto attention = backend->make_kernel(AttentionShape{1, 2, 1, 300, 64});  // its split workspace
    CHECK(cuda_emulation::live_allocations() > before);
  }
  CHECK(cuda_emulation::live_allocations() == before);
}

TEST_CASE(
    "emulated GPU kernels: rounding A to bf16 (cuBLAS's bf16 operand) is core's, bit for bit") {
  // Random values and the edge cases: ties both ways, NaN, infinity, overflow to infinity,
  // subnormals; n not a multiple of the block, and larger than one grid-stride pass.
  std::vector<float> x = random_uniform(70001, 11);
  for (const std::uint32_t bits : {0x3f808000u, 0x3f818000u, 0x7fc00001u, 0x7f800000u, 0xff800000u,
                                   0x7f7fffffu, 0x00000001u, 0x80400000u}) {
    x.push_back(std::bit_cast<float>(bits));
  }
  const std::int64_t n = std::int64_t(x.size());
  float* in = device_array<float>(x.size());
  std::uint16_t* out = device_array<std::uint16_t>(x.size());
  REQUIRE(cudaMemcpyAsync(in, x.data(), x.size() * 4, cudaMemcpyHostToDevice, nullptr) ==
          cudaSuccess);
  cuda::launch_round_to_bf16(in, n, out, nullptr);
  std::vector<std::uint16_t> got(x.size());
  REQUIRE(cudaMemcpyAsync(got.data(), out, x.size() * 2, cudaMemcpyDeviceToHost, nullptr) ==
          cudaSuccess);
  for (std::int64_t i = 0; i < n; ++i) {
    INFO("x = " << x[i] << " (bits " << std::bit_cast<std::uint32_t>(x[i]) << ")");
    if (std::isnan(x[i])) {
      REQUIRE(std::isnan(bf16_to_float(got[i])));
    } else {
      REQUIRE(got[i] == float_to_bf16(x[i]));
    }
  }
  cudaFree(in);
  cudaFree(out);
}
