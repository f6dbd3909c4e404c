#pragma once
// Reading (and, for tests and tools, writing) GGUF files, the format llama.cpp and its users keep
// models in (version 3; version 2 has the same layout):
//   "GGUF" | u32 version | u64 tensor count | u64 metadata count
//   | metadata: (string key, u32 type, value)...  | tensor infos: (string name, u32 n_dims,
//   u64 dims[n_dims] (innermost first), u32 ggml type, u64 offset)... | padding to the alignment
//   | tensor data (each tensor at its offset, a multiple of the alignment)
// Strings are a u64 length and bytes; an array is a u32 element type, a u64 count and the
// elements; everything is little-endian. The alignment is `general.alignment` or 32.
//
// Every malformed, truncated or hostile file is a GgufError naming the file and, where one is
// at fault, the key or tensor. Sizes are checked against the file before anything is allocated:
// a header claiming 2^60 tensors, a string of 2^40 bytes or an array of 2^50 elements is refused,
// not attempted.
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "core/weight_format.hpp"

namespace aigc {

class GgufError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Metadata value types, as the format numbers them.
enum class GgufType : std::uint32_t {
  u8 = 0,
  i8 = 1,
  u16 = 2,
  i16 = 3,
  u32 = 4,
  i32 = 5,
  f32 = 6,
  boolean = 7,
  string = 8,
  array = 9,
  u64 = 10,
  i64 = 11,
  f64 = 12,
};
const char* gguf_type_name(GgufType t);

struct GgufValue;
struct GgufArray {
  GgufType element_type = GgufType::u8;
  std::vector<GgufValue> items;
};

// One metadata value: integers (signed or not) as int64/uint64, floats as double, as read.
struct GgufValue {
  GgufType type = GgufType::u8;
  std::variant<std::uint64_t, std::int64_t, double, bool, std::string, GgufArray> value;
};

// Tensor element types this reader converts to fp32 (ggml's numbering).
enum class GgmlType : std::uint32_t {
  f32 = 0,
  f16 = 1,
  q4_0 = 2,
  q4_1 = 3,
  q5_0 = 6,
  q5_1 = 7,
  q8_0 = 8,
  q2_k = 10,
  q3_k = 11,
  q4_k = 12,
  q5_k = 13,
  q6_k = 14,
  bf16 = 30,
};
const char* ggml_type_name(GgmlType t);
// Elements per block and bytes per block (1 and the element's bytes for the float types; 0 bytes
// for a value that is none of the types above).
std::int64_t ggml_block_elements(GgmlType t);
std::int64_t ggml_block_bytes(GgmlType t);

struct GgufTensor {
  std::string name;
  std::vector<std::int64_t> dims;  // innermost (contiguous) first, as stored
  GgmlType type = GgmlType::f32;
  std::uint64_t offset = 0;  // into the tensor data
  std::uint64_t bytes = 0;
  std::int64_t elements() const;
};

class GgufFile {
 public:
  // Reads and validates the header, the metadata and the tensor infos: every tensor's bytes lie
  // inside the file at an aligned offset, without overlapping another's.
  explicit GgufFile(const std::string& path);

  const std::string& path() const { return path_; }
  std::uint32_t version() const { return version_; }
  std::uint64_t alignment() const { return alignment_; }
  const std::map<std::string, GgufValue>& metadata() const { return metadata_; }
  const std::vector<GgufTensor>& tensors() const { return tensors_; }

  bool has(const std::string& key) const { return metadata_.contains(key); }
  bool has_tensor(const std::string& name) const { return index_.contains(name); }
  // Typed look-ups; a missing key or one of another type is a GgufError naming the key.
  const GgufValue& value(const std::string& key) const;
  std::string get_string(const std::string& key) const;
  std::int64_t get_int(const std::string& key) const;  // any integer type that fits
  double get_float(const std::string& key) const;      // f32 or f64
  bool get_bool(const std::string& key) const;
  std::vector<std::string> get_strings(const std::string& key) const;
  std::vector<std::int64_t> get_ints(const std::string& key) const;
  std::vector<double> get_floats(const std::string& key) const;

  // A tensor by name (GgufError naming it when missing).
  const GgufTensor& tensor(const std::string& name) const;
  // Its elements as fp32, innermost dimension fastest: F32 as stored, F16 and BF16 widened,
  // the block formats (Q8_0 .. Q6_K) dequantized. `expected_dims` (innermost first) must match.
  std::vector<float> read_f32(const std::string& name,
                              const std::vector<std::int64_t>& expected_dims) const;
  // Its bytes as stored; a block whose f16 scale (or min) is NaN or infinite is refused, naming
  // the tensor and the block.
  std::vector<std::uint8_t> read_raw(const std::string& name) const;

 private:
  std::string path_;
  std::uint32_t version_ = 0;
  std::uint64_t alignment_ = 32;  // the format's default, unless general.alignment says
  std::uint64_t data_start_ = 0;
  std::map<std::string, GgufValue> metadata_;
  std::vector<GgufTensor> tensors_;
  std::map<std::string, std::size_t> index_;
};

// The weight format of a tensor type, whose layouts core/weight_format defines, and back.
WeightFormat weight_format_of(GgmlType t);
GgmlType ggml_type_of(WeightFormat f);

// For tests and tools: a GGUF file (version 3) with this metadata and these tensors, whose
// `data` must hold exactly their bytes in their type; written atomically.
struct GgufTensorData {
  std::vector<std::int64_t> dims;  // innermost first
  GgmlType type = GgmlType::f32;
  std::vector<std::uint8_t> data;
};
void write_gguf(const std::string& path,
                const std::vector<std::pair<std::string, GgufValue>>& metadata,
                const std::vector<std::pair<std::string, GgufTensorData>>& tensors,
                std::uint64_t alignment = 32);

}  // namespace aigc
