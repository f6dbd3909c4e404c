#pragma once
// Parsing of compact shape strings "K1=V1,K2=V2,..." with range-checked integers.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace aigc {

struct ShapeKey {
  std::string key;
  std::int64_t min = 1, max = 1;
  bool required = true;
  std::int64_t fallback = 0;  // value when not required and absent
};

// Returns key -> value for every key in `keys`. Throws InvalidArgument naming `shapes`
// for an unknown or repeated key, a missing one, a non-integer, an overflow or a value
// out of its range.
std::map<std::string, std::int64_t> parse_shape(const std::string& text,
                                                const std::vector<ShapeKey>& keys);

}  // namespace aigc
