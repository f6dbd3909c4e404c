#pragma once
// Small helpers shared by the .cu files.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

#include "kernels/cuda/check.hpp"

namespace aigc::cuda {

// Device 0's multiprocessor count (the backends use device 0), asked once per process; the
// launchers size their grids by it.
inline int multiprocessor_count() {
  static const int count = [] {
    int device = 0, sms = 0;
    AIGC_CUDA_CHECK(cudaGetDevice(&device));
    AIGC_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    return sms;
  }();
  return count;
}

__host__ __device__ constexpr std::int64_t min64(std::int64_t a, std::int64_t b) {
  return a < b ? a : b;
}

__host__ __device__ constexpr std::int64_t ceil_div(std::int64_t a, std::int64_t b) {
  return (a + b - 1) / b;
}

// Grid dimensions y and z stop at 65535 (x at 2^31 - 1): a shape past that is refused with its
// numbers rather than launched wrong. The launchers put every dimension that can grow on x.
inline unsigned grid_dim(std::int64_t blocks, const char* what, bool x_axis = false) {
  const std::int64_t limit = x_axis ? std::numeric_limits<int>::max() : 65535;
  if (blocks < 1 || blocks > limit) {
    throw std::invalid_argument(std::string(what) + ": " + std::to_string(blocks) +
                                " blocks are outside a CUDA grid's 1.." + std::to_string(limit));
  }
  return static_cast<unsigned>(blocks);
}

// A 2-D tiling (row_tiles x col_tiles blocks) launched as a 1-D grid: grid.x takes 2^31 - 1
// blocks where y and z stop at 65535, so a tall matrix or many heads never reach the limit.
// Block b takes tile (b / col_tiles, b % col_tiles): consecutive blocks share a tile row, as
// with x running fastest in a 2-D grid.
inline unsigned tiles_grid(std::int64_t row_tiles, std::int64_t col_tiles, const char* what) {
  const std::int64_t limit = std::numeric_limits<int>::max();
  if (row_tiles < 1 || col_tiles < 1 || row_tiles > limit / col_tiles) {
    throw std::invalid_argument(std::string(what) + ": " + std::to_string(row_tiles) + " x " +
                                std::to_string(col_tiles) +
                                " blocks are outside a CUDA grid's 1.." + std::to_string(limit));
  }
  return static_cast<unsigned>(row_tiles * col_tiles);
}

// Every kernel launch goes through here: under nvcc, the <<<>>> launch; in the CPU emulation
// that runs these kernels in the tests of a machine without a GPU (tests/cuda_emulation), the
// emulator's, with the arguments copied as a launch copies them.
template <typename... Params, typename... Args>
void launch(void (*kernel)(Params...), dim3 grid, dim3 block, std::size_t shared_bytes,
            cudaStream_t stream, Args&&... args) {
#ifdef AIGC_CUDA_EMULATION
  ::cuda_emulation::launch(grid, block, shared_bytes, stream, [=] { kernel(Params(args)...); });
#else
  // clang-format treats a .cuh file as C++ and would split the >>>.
  // clang-format off
  kernel<<<grid, block, shared_bytes, stream>>>(std::forward<Args>(args)...);
  // clang-format on
#endif
}

struct TileIndex {
  std::int64_t row, col;
};
// 32-bit division: the grid has fewer than 2^31 blocks, so col_tiles fits too.
__device__ __forceinline__ TileIndex tile_of_block(std::int64_t col_tiles) {
  const unsigned cols = static_cast<unsigned>(col_tiles);
  return {std::int64_t{blockIdx.x / cols}, std::int64_t{blockIdx.x % cols}};
}

// 16-byte alignment of a device pointer, for float4 loads.
__host__ __device__ inline bool aligned16(const void* p) {
  return reinterpret_cast<std::uintptr_t>(p) % 16 == 0;
}

}  // namespace aigc::cuda
