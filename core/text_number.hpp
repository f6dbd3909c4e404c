#pragma once
// A number read from text that a user or a file supplies (an option, a CSV cell): the whole text
// must be one finite number, or it is no number at all ("1e999", "inf", "12abc" and "" are none).
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>

namespace aigc {

inline std::optional<double> finite_number(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || errno == ERANGE || !std::isfinite(v))
    return std::nullopt;
  return v;
}

}  // namespace aigc
