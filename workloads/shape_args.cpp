#include "workloads/shape_args.hpp"

#include <charconv>
#include <sstream>

#include <fmt/format.h>

#include "core/errors.hpp"

namespace aigc {

std::map<std::string, std::int64_t> parse_shape(const std::string& text,
                                                const std::vector<ShapeKey>& keys) {
  std::map<std::string, std::int64_t> values;
  std::stringstream in(text);
  std::string item;
  auto fail = [&](const std::string& why) {
    throw InvalidArgument("shapes", fmt::format("'{}': {}", text, why));
  };
  while (std::getline(in, item, ',')) {
    const auto eq = item.find('=');
    if (eq == std::string::npos) fail(fmt::format("'{}' is not KEY=VALUE", item));
    const std::string key = item.substr(0, eq), value = item.substr(eq + 1);
    const ShapeKey* spec = nullptr;
    for (const ShapeKey& k : keys) {
      if (k.key == key) spec = &k;
    }
    if (spec == nullptr) {
      std::string valid;
      for (const ShapeKey& k : keys) valid += (valid.empty() ? "" : ", ") + k.key;
      fail(fmt::format("unknown key '{}' (valid: {})", key, valid));
    }
    if (values.contains(key)) fail(fmt::format("key '{}' given twice", key));
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    const std::string range = fmt::format("valid: {}..{}", spec->min, spec->max);
    if (ec == std::errc::result_out_of_range)
      fail(fmt::format("{}={} overflows ({})", key, value, range));
    if (ec != std::errc() || end != value.data() + value.size() || value.empty()) {
      fail(fmt::format("{}='{}' is not an integer ({})", key, value, range));
    }
    if (v < spec->min || v > spec->max)
      fail(fmt::format("{}={} is out of range ({})", key, v, range));
    values[key] = v;
  }
  for (const ShapeKey& k : keys) {
    if (values.contains(k.key)) continue;
    if (k.required) fail(fmt::format("missing key '{}' ({}..{})", k.key, k.min, k.max));
    values[k.key] = k.fallback;
  }
  return values;
}

}  // namespace aigc
