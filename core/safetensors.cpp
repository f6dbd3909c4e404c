#include "core/safetensors.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "core/files.hpp"
#include "core/float16.hpp"

namespace aigc {
namespace {

// A header beyond this is not a checkpoint header (GPT-2's is about 15 KiB).
constexpr std::uint64_t kMaxHeaderBytes = 100 << 20;

std::size_t dtype_bytes(const std::string& dtype) {
  if (dtype == "F32" || dtype == "I32" || dtype == "U32") return 4;
  if (dtype == "F16" || dtype == "BF16" || dtype == "I16" || dtype == "U16") return 2;
  if (dtype == "F64" || dtype == "I64" || dtype == "U64") return 8;
  if (dtype == "I8" || dtype == "U8" || dtype == "BOOL") return 1;
  return 0;
}

// A JSON number that is a non-negative integer, as the format requires of shapes and offsets
// (a float such as 1e302 or 2.5 is refused rather than cast, which is undefined behaviour).
std::uint64_t whole_number(const nlohmann::json& v, const char* what) {
  if (!v.is_number_integer() ||
      (v.is_number_integer() && !v.is_number_unsigned() && v.get<std::int64_t>() < 0)) {
    throw std::runtime_error(fmt::format("{} {} is not a non-negative integer", what, v.dump()));
  }
  return v.get<std::uint64_t>();
}

TensorInfo parse_entry(const std::string& path, const std::string& name,
                       const nlohmann::json& entry, std::uint64_t data_bytes) {
  TensorInfo t;
  std::uint64_t elements = 1;
  try {
    if (!entry.is_object()) throw std::runtime_error("not an object");
    t.dtype = entry.at("dtype").get<std::string>();
    const nlohmann::json& shape = entry.at("shape");
    if (!shape.is_array()) throw std::runtime_error("shape is not an array");
    for (const nlohmann::json& d : shape) {
      const std::uint64_t dim = whole_number(d, "dimension");
      if (dim > std::uint64_t(std::numeric_limits<std::int64_t>::max()) ||
          __builtin_mul_overflow(elements, dim, &elements)) {
        throw std::runtime_error(fmt::format("shape {} overflows 64 bits", shape.dump()));
      }
      t.shape.push_back(static_cast<std::int64_t>(dim));
    }
    const nlohmann::json& offsets = entry.at("data_offsets");
    if (!offsets.is_array() || offsets.size() != 2)
      throw std::runtime_error("data_offsets needs two numbers");
    t.begin = whole_number(offsets[0], "offset");
    t.end = whole_number(offsets[1], "offset");
  } catch (const std::exception& e) {
    throw SafetensorsError(
        fmt::format("{}: tensor '{}': malformed entry: {}", path, name, e.what()));
  }
  const std::size_t width = dtype_bytes(t.dtype);
  if (width == 0)
    throw SafetensorsError(fmt::format("{}: tensor '{}': unknown dtype '{}'", path, name, t.dtype));
  if (t.begin > t.end || t.end > data_bytes) {
    throw SafetensorsError(
        fmt::format("{}: tensor '{}': bytes [{}, {}) outside the {} bytes of data (truncated?)",
                    path, name, t.begin, t.end, data_bytes));
  }
  std::uint64_t bytes = 0;
  if (elements > std::uint64_t(std::numeric_limits<std::int64_t>::max()) ||
      __builtin_mul_overflow(elements, std::uint64_t(width), &bytes) || t.end - t.begin != bytes) {
    throw SafetensorsError(fmt::format("{}: tensor '{}': {} bytes for shape [{}] of {}", path, name,
                                       t.end - t.begin, fmt::join(t.shape, ", "), t.dtype));
  }
  return t;
}

// The format's rule: the tensors' byte ranges tile the data section, with no gap and no
// overlap (a header length off by one would otherwise shift every tensor by a byte).
void check_coverage(const std::string& path, const std::map<std::string, TensorInfo>& tensors,
                    std::uint64_t data_bytes) {
  std::vector<std::pair<const std::string*, const TensorInfo*>> by_offset;
  for (const auto& [name, t] : tensors) by_offset.emplace_back(&name, &t);
  std::sort(by_offset.begin(), by_offset.end(), [](const auto& a, const auto& b) {
    return a.second->begin != b.second->begin ? a.second->begin < b.second->begin
                                              : a.second->end < b.second->end;
  });
  std::uint64_t covered = 0;
  for (const auto& [name, t] : by_offset) {
    if (t->begin < covered) {
      throw SafetensorsError(fmt::format("{}: tensor '{}': bytes [{}, {}) overlap another tensor",
                                         path, *name, t->begin, t->end));
    }
    if (t->begin > covered) {
      throw SafetensorsError(
          fmt::format("{}: bytes [{}, {}) of the data belong to no tensor "
                      "(before tensor '{}'): not a valid safetensors file",
                      path, covered, t->begin, *name));
    }
    covered = t->end;
  }
  if (covered != data_bytes) {
    throw SafetensorsError(
        fmt::format("{}: bytes [{}, {}) of the data belong to no tensor: not a "
                    "valid safetensors file (header length wrong?)",
                    path, covered, data_bytes));
  }
}

}  // namespace

std::int64_t TensorInfo::elements() const {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path) {
  std::ifstream in;
  std::uint64_t file_bytes = 0;
  if (const std::string why = open_for_reading(path, in, file_bytes); !why.empty())
    throw SafetensorsError(fmt::format("{}: {}", path, why));
  unsigned char prefix[8];
  if (file_bytes < 8 || !in.read(reinterpret_cast<char*>(prefix), 8)) {
    throw SafetensorsError(
        fmt::format("{}: truncated: {} bytes, no 8-byte header length", path, file_bytes));
  }
  std::uint64_t header_bytes = 0;
  for (int i = 7; i >= 0; --i) header_bytes = (header_bytes << 8) | prefix[i];  // little-endian
  if (header_bytes > kMaxHeaderBytes || 8 + header_bytes > file_bytes) {
    throw SafetensorsError(fmt::format(
        "{}: header of {} bytes does not fit a file of {} bytes (truncated or not safetensors)",
        path, header_bytes, file_bytes));
  }
  std::string header(header_bytes, '\0');
  in.read(header.data(), static_cast<std::streamsize>(header_bytes));
  data_start_ = 8 + header_bytes;
  const std::uint64_t data_bytes = file_bytes - data_start_;

  nlohmann::json j;
  try {
    j = nlohmann::json::parse(header);
  } catch (const std::exception& e) {
    throw SafetensorsError(fmt::format("{}: header is not JSON: {}", path, e.what()));
  }
  if (!j.is_object()) throw SafetensorsError(fmt::format("{}: header is not a JSON object", path));
  for (const auto& [name, entry] : j.items()) {
    if (name == "__metadata__") continue;
    TensorInfo t = parse_entry(path, name, entry, data_bytes);
    tensors_.emplace(name, std::move(t));
  }
  check_coverage(path, tensors_, data_bytes);
}

std::vector<float> SafetensorsFile::read_f32(
    const std::string& name, const std::vector<std::int64_t>& expected_shape) const {
  const auto it = tensors_.find(name);
  if (it == tensors_.end())
    throw SafetensorsError(fmt::format("{}: tensor '{}' is missing", path_, name));
  const TensorInfo& t = it->second;
  if (t.shape != expected_shape) {
    throw SafetensorsError(fmt::format("{}: tensor '{}' has shape [{}], expected [{}]", path_, name,
                                       fmt::join(t.shape, ", "), fmt::join(expected_shape, ", ")));
  }
  std::ifstream in(path_, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(data_start_ + t.begin));
  std::vector<char> raw(t.end - t.begin);
  if (!in.read(raw.data(), static_cast<std::streamsize>(raw.size()))) {
    throw SafetensorsError(
        fmt::format("{}: tensor '{}': read failed (file changed or truncated)", path_, name));
  }
  std::vector<float> out(static_cast<std::size_t>(t.elements()));
  if (t.dtype == "F32") {
    // The format is little-endian, as is x86; a tensor of zero elements copies nothing.
    if (!raw.empty()) std::memcpy(out.data(), raw.data(), raw.size());
  } else if (t.dtype == "F16" || t.dtype == "BF16") {
    for (std::size_t i = 0; i < out.size(); ++i) {
      const std::uint16_t h = load_u16(reinterpret_cast<const std::uint8_t*>(raw.data()) + 2 * i);
      out[i] = t.dtype == "F16" ? half_to_float(h) : bf16_to_float(h);
    }
  } else {
    throw SafetensorsError(
        fmt::format("{}: tensor '{}': dtype {} is not a float type", path_, name, t.dtype));
  }
  // A NaN or infinite weight makes every logit NaN: refused here, naming where it is.
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (!std::isfinite(out[i])) {
      throw SafetensorsError(fmt::format(
          "{}: tensor '{}': element {} is {} (weights must be finite)", path_, name, i, out[i]));
    }
  }
  return out;
}

void write_safetensors(const std::string& path, const std::map<std::string, NamedTensor>& tensors) {
  nlohmann::json header = nlohmann::json::object();
  std::uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    std::int64_t n = 1;
    for (std::int64_t d : t.shape) n *= d;
    if (n != static_cast<std::int64_t>(t.data.size())) {
      throw std::invalid_argument(
          fmt::format("write_safetensors: '{}' has {} values for shape [{}]", name, t.data.size(),
                      fmt::join(t.shape, ", ")));
    }
    header[name] = {{"dtype", "F32"},
                    {"shape", t.shape},
                    {"data_offsets", {offset, offset + 4 * t.data.size()}}};
    offset += 4 * t.data.size();
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8,
              ' ');  // data aligned to 8 bytes, as the reference writer does
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((text.size() >> (8 * i)) & 0xff);
  out += text;
  for (const auto& [name, t] : tensors) {
    out.append(reinterpret_cast<const char*>(t.data.data()), 4 * t.data.size());
  }
  write_file_atomically(path, out);
}

}  // namespace aigc
