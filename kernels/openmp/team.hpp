#pragma once
// How many threads an openmp vector kernel wakes: below kMinFloatsPerThread floats per thread a
// parallel region costs more than it saves (a fork/join is a few microseconds; 16 Ki floats
// take about as long to stream), so small calls (a decode step's one row) stay on the calling
// thread.
#include <algorithm>
#include <cstdint>

namespace aigc::openmp {

inline constexpr std::int64_t kMinFloatsPerThread = 16 * 1024;

inline int useful_threads(std::int64_t floats, int threads) {
  return static_cast<int>(std::clamp<std::int64_t>(floats / kMinFloatsPerThread, 1, threads));
}

}  // namespace aigc::openmp
