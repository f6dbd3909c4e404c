#pragma once
// Summary statistics over the repetitions of one measurement.
#include <span>

namespace aigc {

struct SampleStats {
  int count = 0;
  double median = 0, min = 0, max = 0;
  double cv = 0;  // coefficient of variation: sample standard deviation / mean
};

// Throws std::invalid_argument on an empty sample.
SampleStats summarize(std::span<const double> samples);

}  // namespace aigc
