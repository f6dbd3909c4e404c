#pragma once
// A CPU emulator for the project's CUDA kernels, so that a machine without a GPU (CI, every
// session so far) runs them: the kernels' arithmetic, indexing, barriers, warp shuffles and
// masks, shared-memory use and launch configurations are checked by the tests, not only
// compiled. No packaged library does this for CUDA C++ (GPU Ocelot and HIP-CPU are neither in
// Debian nor on PyPI), so it is written here, on Boost.Context's fibers.
//
// How it runs a launch: blocks one after another; within a block, one fiber per CUDA thread,
// all on the calling OS thread, each running until it reaches a barrier or ends. What it
// checks (a broken rule stops the launch, which reports cudaErrorLaunchFailure; the message,
// naming the block and thread, goes to stderr and to last_launch_failure()):
//   * __syncthreads() reached while other threads of the block have exited or wait elsewhere;
//   * a warp-synchronous operation (__shfl_xor_sync, __syncwarp, WMMA) whose mask leaves out
//     the calling lane, names a lane that has exited or waits with another mask, or (a shuffle)
//     reads a partner lane outside the mask;
//   * shared memory is filled with NaN bytes before every block, so an unwritten read shows;
//   * grid and block sizes past CUDA's limits fail the launch (cudaErrorInvalidConfiguration).
// The runtime API (emulator.cpp) keeps device allocations in host memory and checks every copy
// against them; streams run in order at once; events read the host clock; graph capture
// records launches and device copies and refuses host copies and synchronization, as CUDA does.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <type_traits>

struct dim3;
struct uint3;
struct CUstream_st;

namespace cuda_emulation {

const uint3& thread_idx();
const uint3& block_idx();
const dim3& block_dim();
const dim3& grid_dim();

void sync_threads();
void sync_warp(unsigned mask);
// Exchanges 32-bit words across the lanes in `mask`: returns the word of lane ^ lane_mask.
std::uint32_t shuffle_xor_bits(unsigned mask, std::uint32_t bits, int lane_mask, int width);

template <typename T>
T shuffle_xor(unsigned mask, T value, int lane_mask, int width) {
  static_assert(sizeof(T) == 4 && std::is_trivially_copyable_v<T>, "32-bit shuffles only");
  std::uint32_t bits;
  std::memcpy(&bits, &value, 4);
  bits = shuffle_xor_bits(mask, bits, lane_mask, width);
  std::memcpy(&value, &bits, 4);
  return value;
}

// Runs (or, while `stream` is being captured, records) `body` for every thread of the grid.
void launch(const dim3& grid, const dim3& block, std::size_t shared_bytes, CUstream_st* stream,
            std::function<void()> body);

// For the tests: the message of the last launch that failed (empty when none), the number of
// kernel launches run so far, and the number of live device allocations.
std::string last_launch_failure();
std::size_t launches_run();
std::size_t live_allocations();
// The multiprocessor count the emulated device reports (132, an H100 SXM's).
inline constexpr int kMultiprocessors = 132;

}  // namespace cuda_emulation
