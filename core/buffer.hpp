#pragma once
// Memory owned by a backend: host memory for the CPU backends, device memory for a
// GPU backend. Kernels receive Buffers, so data can stay where the backend keeps it.
#include <cstddef>
#include <utility>

namespace aigc {

class Buffer {
 public:
  using Release = void (*)(void*);

  Buffer() = default;
  Buffer(void* data, std::size_t bytes, Release release)
      : data_(data), bytes_(bytes), release_(release) {}
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  Buffer(Buffer&& other) noexcept { swap(other); }
  Buffer& operator=(Buffer&& other) noexcept {
    Buffer(std::move(other)).swap(*this);
    return *this;
  }
  ~Buffer() {
    if (data_ != nullptr && release_ != nullptr) release_(data_);
  }

  void* data() const { return data_; }
  std::size_t bytes() const { return bytes_; }
  template <typename T>
  T* as() const {
    return static_cast<T*>(data_);
  }
  explicit operator bool() const { return data_ != nullptr; }

 private:
  void swap(Buffer& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(bytes_, other.bytes_);
    std::swap(release_, other.release_);
  }

  void* data_ = nullptr;
  std::size_t bytes_ = 0;
  Release release_ = nullptr;
};

}  // namespace aigc
