#pragma once
// Relative error against a float64 reference, NaN-aware: a NaN or infinite output
// (an unwritten, poisoned element) makes the maximum infinite, so no check can pass it.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace aigc {

class MaxRelativeError {
 public:
  // `scale` is the magnitude the rounding error is proportional to (for a dot product:
  // the sum of |a_i * b_i|), so that cancellation does not inflate the error.
  void add(double got, double reference, double scale) {
    const double err =
        std::abs(got - reference) / std::max(scale, std::numeric_limits<double>::min());
    if (!std::isfinite(got) || !std::isfinite(err)) {
      max_ = std::numeric_limits<double>::infinity();
    } else {
      max_ = std::max(max_, err);
    }
  }
  double value() const { return max_; }

 private:
  double max_ = 0;
};

// Unit roundoff of fp32 (round to nearest): 2^-24.
inline constexpr double kFp32UnitRoundoff = 5.9604644775390625e-08;

// gamma_n = n u / (1 - n u): the relative error bound of an n-term fp32 sum or dot product
// in any order (Higham, ch. 3), the base of every tolerance in the suite.
inline double fp32_gamma(double n) {
  const double nu = n * kFp32UnitRoundoff;
  return nu / (1.0 - nu);
}

inline std::vector<float> nan_filled(std::size_t n) {
  return std::vector<float>(n, std::numeric_limits<float>::quiet_NaN());
}

}  // namespace aigc
