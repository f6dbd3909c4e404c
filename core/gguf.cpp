#include "core/gguf.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/files.hpp"
#include "core/float16.hpp"

namespace aigc {
namespace {

constexpr std::uint32_t kMaxDims = 4;  // ggml's GGML_MAX_DIMS
constexpr int kMaxNesting = 8;         // arrays of arrays, at most this deep

// Bytes a value of this type takes at least: what a count must be checked against.
std::uint64_t min_bytes(GgufType t) {
  switch (t) {
    case GgufType::u8:
    case GgufType::i8:
    case GgufType::boolean:
      return 1;
    case GgufType::u16:
    case GgufType::i16:
      return 2;
    case GgufType::u32:
    case GgufType::i32:
    case GgufType::f32:
      return 4;
    case GgufType::u64:
    case GgufType::i64:
    case GgufType::f64:
      return 8;
    case GgufType::string:
      return 8;  // its length
    case GgufType::array:
      return 4 + 8;  // element type and count
  }
  return 1;
}

bool known_type(std::uint32_t t) { return t <= 12; }

// A bounded little-endian reader over the file: every read checks the bytes left first.
class Reader {
 public:
  Reader(const std::string& path, std::ifstream& in, std::uint64_t size)
      : path_(path), in_(in), size_(size) {}

  std::uint64_t position() const { return pos_; }
  std::uint64_t left() const { return size_ - pos_; }

  void need(std::uint64_t bytes, const std::string& what) const {
    if (bytes > left()) {
      throw GgufError(fmt::format("{}: truncated: {} needs {} bytes at offset {}, {} are left",
                                  path_, what, bytes, pos_, left()));
    }
  }
  void bytes(void* out, std::uint64_t n, const std::string& what) {
    need(n, what);
    if (n > 0 && !in_.read(static_cast<char*>(out), static_cast<std::streamsize>(n)))
      throw GgufError(fmt::format("{}: read failed at offset {} ({})", path_, pos_, what));
    pos_ += n;
  }
  template <typename T>
  T scalar(const std::string& what) {
    T v;
    bytes(&v, sizeof v, what);  // the format is little-endian, as is x86
    return v;
  }
  std::string string(const std::string& what) {
    const auto n = scalar<std::uint64_t>(what + " length");
    need(n, what);  // before allocating: a forged length cannot ask for more than the file
    std::string s(n, '\0');
    bytes(s.data(), n, what);
    return s;
  }

 private:
  const std::string& path_;
  std::ifstream& in_;
  std::uint64_t size_, pos_ = 0;
};

GgufValue read_value(Reader& r, GgufType type, const std::string& key, int depth) {
  GgufValue v;
  v.type = type;
  const std::string what = fmt::format("metadata '{}'", key);
  switch (type) {
    case GgufType::u8:
      v.value = std::uint64_t{r.scalar<std::uint8_t>(what)};
      break;
    case GgufType::i8:
      v.value = std::int64_t{r.scalar<std::int8_t>(what)};
      break;
    case GgufType::u16:
      v.value = std::uint64_t{r.scalar<std::uint16_t>(what)};
      break;
    case GgufType::i16:
      v.value = std::int64_t{r.scalar<std::int16_t>(what)};
      break;
    case GgufType::u32:
      v.value = std::uint64_t{r.scalar<std::uint32_t>(what)};
      break;
    case GgufType::i32:
      v.value = std::int64_t{r.scalar<std::int32_t>(what)};
      break;
    case GgufType::u64:
      v.value = r.scalar<std::uint64_t>(what);
      break;
    case GgufType::i64:
      v.value = r.scalar<std::int64_t>(what);
      break;
    case GgufType::f32:
      v.value = double{r.scalar<float>(what)};
      break;
    case GgufType::f64:
      v.value = r.scalar<double>(what);
      break;
    case GgufType::boolean: {
      const auto b = r.scalar<std::uint8_t>(what);
      if (b > 1) throw GgufError(fmt::format("metadata '{}': bool byte {} is not 0 or 1", key, b));
      v.value = b == 1;
      break;
    }
    case GgufType::string:
      v.value = r.string(what);
      break;
    case GgufType::array: {
      if (depth >= kMaxNesting)
        throw GgufError(
            fmt::format("metadata '{}': arrays nested deeper than {}", key, kMaxNesting));
      const auto element = r.scalar<std::uint32_t>(what + " element type");
      if (!known_type(element))
        throw GgufError(fmt::format("metadata '{}': unknown array element type {}", key, element));
      const auto count = r.scalar<std::uint64_t>(what + " count");
      const GgufType et = static_cast<GgufType>(element);
      // Each element takes at least min_bytes: a count the rest of the file cannot hold is
      // refused before the vector is sized.
      if (count > r.left() / min_bytes(et)) {
        throw GgufError(fmt::format("metadata '{}': {} elements of {} cannot fit the {} bytes left",
                                    key, count, gguf_type_name(et), r.left()));
      }
      GgufArray a;
      a.element_type = et;
      a.items.reserve(count);
      for (std::uint64_t i = 0; i < count; ++i)
        a.items.push_back(read_value(r, et, key, depth + 1));
      v.value = std::move(a);
      break;
    }
  }
  return v;
}

std::int64_t as_int(const GgufValue& v, const std::string& where) {
  if (const auto* u = std::get_if<std::uint64_t>(&v.value)) {
    if (*u > std::uint64_t(std::numeric_limits<std::int64_t>::max()))
      throw GgufError(fmt::format("{}: {} does not fit a signed 64-bit integer", where, *u));
    return static_cast<std::int64_t>(*u);
  }
  if (const auto* i = std::get_if<std::int64_t>(&v.value)) return *i;
  throw GgufError(fmt::format("{}: is {}, not an integer", where, gguf_type_name(v.type)));
}

double as_float(const GgufValue& v, const std::string& where) {
  if (const auto* d = std::get_if<double>(&v.value)) return *d;
  throw GgufError(fmt::format("{}: is {}, not a float", where, gguf_type_name(v.type)));
}

const GgufArray& as_array(const GgufValue& v, const std::string& where) {
  if (const auto* a = std::get_if<GgufArray>(&v.value)) return *a;
  throw GgufError(fmt::format("{}: is {}, not an array", where, gguf_type_name(v.type)));
}

}  // namespace

const char* gguf_type_name(GgufType t) {
  switch (t) {
    case GgufType::u8:
      return "uint8";
    case GgufType::i8:
      return "int8";
    case GgufType::u16:
      return "uint16";
    case GgufType::i16:
      return "int16";
    case GgufType::u32:
      return "uint32";
    case GgufType::i32:
      return "int32";
    case GgufType::f32:
      return "float32";
    case GgufType::boolean:
      return "bool";
    case GgufType::string:
      return "string";
    case GgufType::array:
      return "array";
    case GgufType::u64:
      return "uint64";
    case GgufType::i64:
      return "int64";
    case GgufType::f64:
      return "float64";
  }
  return "unknown";
}

const char* ggml_type_name(GgmlType t) {
  // GGML's type ids (ggml.h), those this reader takes and those it names in a refusal.
  static constexpr const char* kNames[] = {
      "F32",   "F16",        "Q4_0",       "Q4_1",       "Q4_2",     "Q4_3",     "Q5_0",
      "Q5_1",  "Q8_0",       "Q8_1",       "Q2_K",       "Q3_K",     "Q4_K",     "Q5_K",
      "Q6_K",  "Q8_K",       "IQ2_XXS",    "IQ2_XS",     "IQ3_XXS",  "IQ1_S",    "IQ4_NL",
      "IQ3_S", "IQ2_S",      "IQ4_XS",     "I8",         "I16",      "I32",      "I64",
      "F64",   "IQ1_M",      "BF16",       "Q4_0_4_4",   "Q4_0_4_8", "Q4_0_8_8", "TQ1_0",
      "TQ2_0", "IQ4_NL_4_4", "IQ4_NL_4_8", "IQ4_NL_8_8", "MXFP4",    "NVFP4",    "Q1_0"};
  const auto id = static_cast<std::uint32_t>(t);
  return id < std::size(kNames) ? kNames[id] : "unknown";
}

namespace {

// The weight format whose layout a tensor type is (core/weight_format); none for a value that
// is not a type this reader takes.
std::optional<WeightFormat> format_of(GgmlType t) {
  switch (t) {
    case GgmlType::f32:
      return WeightFormat::f32;
    case GgmlType::f16:
      return WeightFormat::f16;
    case GgmlType::bf16:
      return WeightFormat::bf16;
    case GgmlType::q8_0:
      return WeightFormat::q8_0;
    case GgmlType::q4_0:
      return WeightFormat::q4_0;
    case GgmlType::q4_1:
      return WeightFormat::q4_1;
    case GgmlType::q5_0:
      return WeightFormat::q5_0;
    case GgmlType::q5_1:
      return WeightFormat::q5_1;
    case GgmlType::q2_k:
      return WeightFormat::q2_k;
    case GgmlType::q3_k:
      return WeightFormat::q3_k;
    case GgmlType::q4_k:
      return WeightFormat::q4_k;
    case GgmlType::q5_k:
      return WeightFormat::q5_k;
    case GgmlType::q6_k:
      return WeightFormat::q6_k;
  }
  return std::nullopt;
}

// "F32, F16, ...": the types format_of() maps, for a refusal.
std::string readable_types() {
  std::string out;
  for (std::uint32_t id = 0; id < 64; ++id) {
    if (format_of(static_cast<GgmlType>(id))) {
      out +=
          fmt::format("{}{}", out.empty() ? "" : ", ", ggml_type_name(static_cast<GgmlType>(id)));
    }
  }
  return out;
}

}  // namespace

std::int64_t ggml_block_elements(GgmlType t) {
  const auto f = format_of(t);
  return f ? block_elements(*f) : 1;
}

std::int64_t ggml_block_bytes(GgmlType t) {
  const auto f = format_of(t);
  return f ? block_bytes(*f) : 0;
}

std::int64_t GgufTensor::elements() const {
  std::int64_t n = 1;
  for (const std::int64_t d : dims) n *= d;
  return n;
}

WeightFormat weight_format_of(GgmlType t) {
  if (const auto f = format_of(t)) return *f;
  throw std::logic_error("weight_format_of: a GGML type this reader does not take");
}

GgmlType ggml_type_of(WeightFormat f) {
  for (std::uint32_t id = 0; id < 64; ++id) {
    const auto t = static_cast<GgmlType>(id);
    if (format_of(t) == f) return t;
  }
  throw std::invalid_argument("ggml_type_of: a format without a GGML type");
}

GgufFile::GgufFile(const std::string& path) : path_(path) {
  std::ifstream in;
  std::uint64_t file_bytes = 0;
  if (const std::string why = open_for_reading(path, in, file_bytes); !why.empty())
    throw GgufError(fmt::format("{}: {}", path, why));
  Reader r(path_, in, file_bytes);

  char magic[4];
  r.bytes(magic, 4, "the magic");
  if (std::memcmp(magic, "GGUF", 4) != 0)
    throw GgufError(fmt::format("{}: not a GGUF file (no 'GGUF' magic)", path));
  version_ = r.scalar<std::uint32_t>("the version");
  if (version_ != 2 && version_ != 3)
    throw GgufError(fmt::format("{}: GGUF version {} (this reader takes 2 and 3)", path, version_));
  const auto n_tensors = r.scalar<std::uint64_t>("the tensor count");
  const auto n_metadata = r.scalar<std::uint64_t>("the metadata count");
  // A metadata entry takes at least 8 + 4 + 1 bytes and a tensor info 8 + 4 + 4 + 8: counts the
  // file cannot hold are refused before anything is reserved.
  if (n_metadata > r.left() / 13 || n_tensors > r.left() / 24) {
    throw GgufError(fmt::format("{}: {} tensors and {} metadata entries cannot fit its {} bytes",
                                path, n_tensors, n_metadata, file_bytes));
  }

  for (std::uint64_t i = 0; i < n_metadata; ++i) {
    std::string key = r.string(fmt::format("metadata key {}", i));
    const auto type = r.scalar<std::uint32_t>(fmt::format("the type of metadata '{}'", key));
    if (!known_type(type))
      throw GgufError(fmt::format("{}: metadata '{}': unknown value type {}", path, key, type));
    GgufValue v;
    try {
      v = read_value(r, static_cast<GgufType>(type), key, 0);
    } catch (const GgufError& e) {
      const std::string what = e.what();
      throw GgufError(what.rfind(path, 0) == 0 ? what : fmt::format("{}: {}", path, what));
    }
    if (!metadata_.emplace(key, std::move(v)).second)
      throw GgufError(fmt::format("{}: metadata '{}' appears twice", path, key));
  }
  if (const auto it = metadata_.find("general.alignment"); it != metadata_.end()) {
    const std::int64_t a = as_int(it->second, path + ": metadata 'general.alignment'");
    if (a < 1 || a > (1 << 20) || (a & (a - 1)) != 0) {
      throw GgufError(
          fmt::format("{}: metadata 'general.alignment' is {} (a power of two up to "
                      "2^20)",
                      path, a));
    }
    alignment_ = static_cast<std::uint64_t>(a);
  }

  tensors_.reserve(n_tensors);
  for (std::uint64_t i = 0; i < n_tensors; ++i) {
    GgufTensor t;
    t.name = r.string(fmt::format("tensor name {}", i));
    const std::string who = fmt::format("{}: tensor '{}'", path, t.name);
    const auto n_dims = r.scalar<std::uint32_t>(who + " dimension count");
    if (n_dims < 1 || n_dims > kMaxDims)
      throw GgufError(fmt::format("{}: {} dimensions (1..{})", who, n_dims, kMaxDims));
    std::uint64_t elements = 1;
    for (std::uint32_t d = 0; d < n_dims; ++d) {
      const auto dim = r.scalar<std::uint64_t>(who + " dimension");
      if (dim > std::uint64_t(std::numeric_limits<std::int64_t>::max()) ||
          __builtin_mul_overflow(elements, dim, &elements)) {
        throw GgufError(fmt::format("{}: dimensions overflow 64 bits", who));
      }
      t.dims.push_back(static_cast<std::int64_t>(dim));
    }
    const auto type = r.scalar<std::uint32_t>(who + " type");
    if (ggml_block_bytes(static_cast<GgmlType>(type)) == 0) {  // not a type this reader takes
      throw GgufError(fmt::format("{}: tensor type {} ({}) is not one this reader takes ({})", who,
                                  type, ggml_type_name(static_cast<GgmlType>(type)),
                                  readable_types()));
    }
    t.type = static_cast<GgmlType>(type);
    t.offset = r.scalar<std::uint64_t>(who + " offset");
    const auto block = std::uint64_t(ggml_block_elements(t.type));
    if (t.dims[0] % std::int64_t(block) != 0) {
      throw GgufError(
          fmt::format("{}: its innermost dimension {} is not a multiple of {}'s "
                      "{}-element blocks",
                      who, t.dims[0], ggml_type_name(t.type), block));
    }
    if (__builtin_mul_overflow(elements / block, std::uint64_t(ggml_block_bytes(t.type)), &t.bytes))
      throw GgufError(fmt::format("{}: its size overflows 64 bits", who));
    if (t.offset % alignment_ != 0) {
      throw GgufError(fmt::format("{}: offset {} is not a multiple of the alignment {}", who,
                                  t.offset, alignment_));
    }
    if (!index_.emplace(t.name, tensors_.size()).second)
      throw GgufError(fmt::format("{}: appears twice", who));
    tensors_.push_back(std::move(t));
  }
  // The data starts at the next multiple of the alignment.
  data_start_ = (r.position() + alignment_ - 1) / alignment_ * alignment_;
  const std::uint64_t data_bytes = file_bytes >= data_start_ ? file_bytes - data_start_ : 0;
  std::vector<const GgufTensor*> by_offset;
  for (const GgufTensor& t : tensors_) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const GgufTensor* a, const GgufTensor* b) { return a->offset < b->offset; });
  std::uint64_t covered = 0;
  for (const GgufTensor* t : by_offset) {
    if (t->offset > data_bytes || t->bytes > data_bytes - t->offset) {
      throw GgufError(
          fmt::format("{}: tensor '{}': bytes [{}, {}) of the data lie past its end "
                      "({} bytes: truncated?)",
                      path, t->name, t->offset, t->offset + t->bytes, data_bytes));
    }
    if (t->offset < covered) {
      throw GgufError(fmt::format("{}: tensor '{}': bytes [{}, {}) overlap another tensor", path,
                                  t->name, t->offset, t->offset + t->bytes));
    }
    covered = t->offset + t->bytes;
  }
}

const GgufValue& GgufFile::value(const std::string& key) const {
  const auto it = metadata_.find(key);
  if (it == metadata_.end())
    throw GgufError(fmt::format("{}: metadata '{}' is missing", path_, key));
  return it->second;
}

std::string GgufFile::get_string(const std::string& key) const {
  const GgufValue& v = value(key);
  if (const auto* s = std::get_if<std::string>(&v.value)) return *s;
  throw GgufError(
      fmt::format("{}: metadata '{}' is {}, not a string", path_, key, gguf_type_name(v.type)));
}

std::int64_t GgufFile::get_int(const std::string& key) const {
  return as_int(value(key), fmt::format("{}: metadata '{}'", path_, key));
}

double GgufFile::get_float(const std::string& key) const {
  return as_float(value(key), fmt::format("{}: metadata '{}'", path_, key));
}

bool GgufFile::get_bool(const std::string& key) const {
  const GgufValue& v = value(key);
  if (const auto* b = std::get_if<bool>(&v.value)) return *b;
  throw GgufError(
      fmt::format("{}: metadata '{}' is {}, not a bool", path_, key, gguf_type_name(v.type)));
}

std::vector<std::string> GgufFile::get_strings(const std::string& key) const {
  const std::string where = fmt::format("{}: metadata '{}'", path_, key);
  const GgufArray& a = as_array(value(key), where);
  if (a.element_type != GgufType::string)
    throw GgufError(
        fmt::format("{}: an array of {}, not of strings", where, gguf_type_name(a.element_type)));
  std::vector<std::string> out;
  out.reserve(a.items.size());
  for (const GgufValue& v : a.items) out.push_back(std::get<std::string>(v.value));
  return out;
}

std::vector<std::int64_t> GgufFile::get_ints(const std::string& key) const {
  const std::string where = fmt::format("{}: metadata '{}'", path_, key);
  std::vector<std::int64_t> out;
  for (const GgufValue& v : as_array(value(key), where).items) out.push_back(as_int(v, where));
  return out;
}

std::vector<double> GgufFile::get_floats(const std::string& key) const {
  const std::string where = fmt::format("{}: metadata '{}'", path_, key);
  std::vector<double> out;
  for (const GgufValue& v : as_array(value(key), where).items) out.push_back(as_float(v, where));
  return out;
}

const GgufTensor& GgufFile::tensor(const std::string& name) const {
  const auto it = index_.find(name);
  if (it == index_.end()) throw GgufError(fmt::format("{}: tensor '{}' is missing", path_, name));
  return tensors_[it->second];
}

std::vector<std::uint8_t> GgufFile::read_raw(const std::string& name) const {
  const GgufTensor& t = tensor(name);
  std::ifstream in(path_, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(data_start_ + t.offset));
  std::vector<std::uint8_t> raw(t.bytes);
  if (!raw.empty() && !in.read(reinterpret_cast<char*>(raw.data()), std::streamsize(raw.size()))) {
    throw GgufError(
        fmt::format("{}: tensor '{}': read failed (file changed or truncated)", path_, name));
  }
  // A NaN or infinite block scale would turn the block's every weight into NaN: a forged or
  // corrupt file, refused by name rather than computed on.
  if (const std::int64_t b = first_non_finite_scale(weight_format_of(t.type), raw); b >= 0) {
    throw GgufError(
        fmt::format("{}: tensor '{}': block {} of its {} weights has a scale that is not "
                    "finite (NaN or infinite)",
                    path_, name, b, ggml_type_name(t.type)));
  }
  return raw;
}

std::vector<float> GgufFile::read_f32(const std::string& name,
                                      const std::vector<std::int64_t>& expected_dims) const {
  const GgufTensor& t = tensor(name);
  if (t.dims != expected_dims) {
    throw GgufError(
        fmt::format("{}: tensor '{}' has dimensions [{}], expected [{}] (innermost "
                    "first)",
                    path_, name, fmt::join(t.dims, ", "), fmt::join(expected_dims, ", ")));
  }
  const std::vector<std::uint8_t> raw = read_raw(name);
  std::vector<float> out(static_cast<std::size_t>(t.elements()));
  dequantize(weight_format_of(t.type), raw.data(), t.elements(), out.data());
  // A NaN or infinite weight (an f32/f16 element; block scales are checked by read_raw) makes
  // every logit NaN: refused here, naming where it is, as the safetensors reader does.
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (!std::isfinite(out[i])) {
      throw GgufError(fmt::format("{}: tensor '{}': element {} is {} (weights must be finite)",
                                  path_, name, i, out[i]));
    }
  }
  return out;
}

namespace {

void put_bytes(std::string& out, const void* p, std::size_t n) {
  out.append(static_cast<const char*>(p), n);
}
template <typename T>
void put(std::string& out, T v) {
  put_bytes(out, &v, sizeof v);
}
void put_string(std::string& out, const std::string& s) {
  put<std::uint64_t>(out, s.size());
  out += s;
}

void put_value(std::string& out, const GgufValue& v) {
  switch (v.type) {
    case GgufType::u8:
      put<std::uint8_t>(out, std::uint8_t(std::get<std::uint64_t>(v.value)));
      break;
    case GgufType::i8:
      put<std::int8_t>(out, std::int8_t(std::get<std::int64_t>(v.value)));
      break;
    case GgufType::u16:
      put<std::uint16_t>(out, std::uint16_t(std::get<std::uint64_t>(v.value)));
      break;
    case GgufType::i16:
      put<std::int16_t>(out, std::int16_t(std::get<std::int64_t>(v.value)));
      break;
    case GgufType::u32:
      put<std::uint32_t>(out, std::uint32_t(std::get<std::uint64_t>(v.value)));
      break;
    case GgufType::i32:
      put<std::int32_t>(out, std::int32_t(std::get<std::int64_t>(v.value)));
      break;
    case GgufType::u64:
      put<std::uint64_t>(out, std::get<std::uint64_t>(v.value));
      break;
    case GgufType::i64:
      put<std::int64_t>(out, std::get<std::int64_t>(v.value));
      break;
    case GgufType::f32:
      put<float>(out, float(std::get<double>(v.value)));
      break;
    case GgufType::f64:
      put<double>(out, std::get<double>(v.value));
      break;
    case GgufType::boolean:
      put<std::uint8_t>(out, std::get<bool>(v.value) ? 1 : 0);
      break;
    case GgufType::string:
      put_string(out, std::get<std::string>(v.value));
      break;
    case GgufType::array: {
      const GgufArray& a = std::get<GgufArray>(v.value);
      put<std::uint32_t>(out, std::uint32_t(a.element_type));
      put<std::uint64_t>(out, a.items.size());
      for (const GgufValue& item : a.items) put_value(out, item);
      break;
    }
  }
}

}  // namespace

void write_gguf(const std::string& path,
                const std::vector<std::pair<std::string, GgufValue>>& metadata,
                const std::vector<std::pair<std::string, GgufTensorData>>& tensors,
                std::uint64_t alignment) {
  std::string out = "GGUF";
  put<std::uint32_t>(out, 3);
  put<std::uint64_t>(out, tensors.size());
  put<std::uint64_t>(out, metadata.size());
  for (const auto& [key, v] : metadata) {
    put_string(out, key);
    put<std::uint32_t>(out, std::uint32_t(v.type));
    put_value(out, v);
  }
  auto aligned = [&](std::uint64_t n) { return (n + alignment - 1) / alignment * alignment; };
  std::uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    put_string(out, name);
    put<std::uint32_t>(out, std::uint32_t(t.dims.size()));
    for (const std::int64_t d : t.dims) put<std::uint64_t>(out, std::uint64_t(d));
    put<std::uint32_t>(out, std::uint32_t(t.type));
    put<std::uint64_t>(out, offset);
    offset = aligned(offset + t.data.size());
  }
  out.resize(aligned(out.size()), '\0');
  for (const auto& [name, t] : tensors) {
    put_bytes(out, t.data.data(), t.data.size());
    out.resize(aligned(out.size()), '\0');
  }
  write_file_atomically(path, out);
}

}  // namespace aigc
