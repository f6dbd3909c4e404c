#include "core/stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <vector>

namespace aigc {

SampleStats summarize(std::span<const double> samples) {
  if (samples.empty()) throw std::invalid_argument("summarize: no samples");
  std::vector<double> v(samples.begin(), samples.end());
  std::sort(v.begin(), v.end());
  SampleStats s;
  s.count = static_cast<int>(v.size());
  const std::size_t mid = v.size() / 2;
  s.median = v.size() % 2 == 1 ? v[mid] : 0.5 * (v[mid - 1] + v[mid]);
  s.min = v.front();
  s.max = v.back();
  const double mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  if (v.size() > 1 && mean > 0) {
    double ss = 0;
    for (double x : v) ss += (x - mean) * (x - mean);
    s.cv = std::sqrt(ss / static_cast<double>(v.size() - 1)) / mean;
  }
  return s;
}

}  // namespace aigc
