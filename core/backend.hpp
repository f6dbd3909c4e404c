#pragma once
// The one interface every backend implements. A backend owns its buffers (so a GPU
// backend can keep data on the device), takes a thread count, and builds op kernels.
// Kernels are built once per shape ("prepared") and run many times, so that set-up
// work such as oneDNN primitive creation stays out of the timed region.
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "core/buffer.hpp"
#include "core/errors.hpp"

namespace aigc {

struct Availability {
  bool available = true;
  std::string reason;  // why not, when not available ("no CUDA device", ...)
};

// What kind of hardware a backend drives; picks the roofline ceilings it is held to.
enum class ComputeClass { scalar_core, simd_core, gpu };

// C[M,N] = A[M,K] * B[K,N] (+ bias[N]), fp32, row-major, dense.
struct MatmulShape {
  std::int64_t M = 0, N = 0, K = 0;
  bool bias = false;
};

class MatmulKernel {
 public:
  virtual ~MatmulKernel() = default;
  // bias may be null when the shape has no bias. Returns when C is complete
  // (a GPU kernel synchronizes), so that a timer around it is honest.
  virtual void run(const Buffer& a, const Buffer& b, const Buffer* bias, Buffer& c) = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;

  virtual std::string name() const = 0;
  virtual std::string description() const = 0;
  virtual Availability availability() const { return {}; }
  virtual ComputeClass compute_class() const = 0;
  // The instruction set that actually runs ("none", "AVX3", "onednn:avx512_core", ...).
  virtual std::string simd_target() const = 0;

  // Threads: single-threaded backends accept only 1.
  virtual int max_threads() const { return 1; }
  bool is_multithreaded() const { return max_threads() > 1; }
  void set_threads(int threads);
  int threads() const { return threads_; }

  // Memory.
  virtual Buffer allocate(std::size_t bytes) = 0;
  virtual void upload(Buffer& dst, std::span<const float> src) = 0;
  virtual void download(const Buffer& src, std::span<float> dst) = 0;
  virtual void synchronize() {}

  Buffer upload_new(std::span<const float> src) {
    Buffer b = allocate(src.size_bytes());
    upload(b, src);
    return b;
  }

  // Ops. The default says the op is not implemented on this backend.
  virtual std::unique_ptr<MatmulKernel> make_matmul(const MatmulShape& shape);

 protected:
  int threads_ = 1;
};

}  // namespace aigc
