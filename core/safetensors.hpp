#pragma once
// Reading (and, for tests and tools, writing) tensors in the safetensors format used by
// Hugging Face checkpoints such as GPT-2's model.safetensors:
//   u64 little-endian header length N | N bytes of JSON | raw tensor data
// where the JSON maps each name to {"dtype", "shape", "data_offsets": [begin, end)}
// (offsets relative to the data section), plus an optional "__metadata__" entry.
// Every malformed, truncated or mismatched file is a SafetensorsError naming the file and,
// where one is at fault, the tensor.
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace aigc {

class SafetensorsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct TensorInfo {
  std::string dtype;  // "F32", "F16", "BF16", ...
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0, end = 0;  // byte offsets into the data section
  std::int64_t elements() const;
};

class SafetensorsFile {
 public:
  // Reads and validates the header: the header fits the file, every tensor's byte range
  // lies inside the data section and matches its shape and dtype.
  explicit SafetensorsFile(const std::string& path);

  const std::string& path() const { return path_; }
  bool contains(const std::string& name) const { return tensors_.contains(name); }
  const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }

  // The tensor as fp32 (F32 as stored; F16 and BF16 widened). Throws naming the tensor
  // when it is missing or its shape is not `expected_shape`.
  std::vector<float> read_f32(const std::string& name,
                              const std::vector<std::int64_t>& expected_shape) const;

 private:
  std::string path_;
  std::uint64_t data_start_ = 0;
  std::map<std::string, TensorInfo> tensors_;
};

struct NamedTensor {
  std::vector<std::int64_t> shape;
  std::vector<float> data;
};

// Writes F32 tensors as a safetensors file (atomically).
void write_safetensors(const std::string& path, const std::map<std::string, NamedTensor>& tensors);

}  // namespace aigc
