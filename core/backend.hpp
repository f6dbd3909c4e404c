#pragma once
// The one interface every backend implements. A backend owns its buffers (so a GPU
// backend can keep data on the device), takes a thread count, and builds op kernels.
// Kernels are built once per shape ("prepared") and run many times, so that set-up
// work such as oneDNN primitive creation stays out of the timed region.
#include <cstdint>
#include <functional>
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

// C[M,N] = A[M,K] * B[K,N] (+ bias[N]), fp32, row-major, dense. With transpose_b, B is
// stored [N,K] (row n holds column n), as a tied output embedding is: logits = h . wte^T.
struct MatmulShape {
  std::int64_t M = 0, N = 0, K = 0;
  bool bias = false;
  bool transpose_b = false;
};

// Causal multi-head scaled-dot-product attention, fp32:
//   O[b,h,i,:] = softmax_j(Q[b,h,i,:] . K[b,h,j,:] / sqrt(D) + mask) . V[b,h,j,:]
// S queries stand at absolute positions L-S .. L-1 and see the keys at positions up to
// their own. S == L is full causal attention (prefill); S == 1 is one decode step against a
// KV cache of L entries. Layouts: Q, O [B,H,S,D]; K, V [B,H,kv_capacity,D] (the first L rows
// of each head valid), so a decoder's preallocated cache is used in place.
struct AttentionShape {
  std::int64_t B = 1, H = 1, S = 1, L = 1, D = 1;
  std::int64_t kv_capacity = 0;  // 0: equal to L
  std::int64_t capacity() const { return kv_capacity > 0 ? kv_capacity : L; }
};

// Layer normalization over the last dimension of x [rows, dim], fp32:
//   y = (x - mean) / sqrt(var + eps) * gamma + beta   (var: the biased variance, as GPT-2).
struct LayernormShape {
  std::int64_t rows = 1, dim = 1;
  float eps = 1e-5f;
};

// Elementwise over n floats: `add` is y = a + b (the residual); `gelu_tanh` is y = GELU(a)
// in GPT-2's tanh form, 0.5 a (1 + tanh(sqrt(2/pi) (a + 0.044715 a^3))).
enum class ElementwiseOp { add, gelu_tanh };
struct ElementwiseShape {
  ElementwiseOp op = ElementwiseOp::add;
  std::int64_t n = 1;
};

// The decoder's head layouts: a QKV projection's output qkv [T, 3, H, D] (Q, K, V each
// [T, H, D]), per-head queries and attention outputs [H, T, D], KV caches [H, capacity, D].
struct HeadsShape {
  std::int64_t tokens = 1, heads = 1, head_dim = 1, capacity = 1;
};

class LayernormKernel {
 public:
  virtual ~LayernormKernel() = default;
  virtual void run(const Buffer& x, const Buffer& gamma, const Buffer& beta, Buffer& y) = 0;
};

class ElementwiseKernel {
 public:
  virtual ~ElementwiseKernel() = default;
  // b is null for a unary op; y may be the same buffer as a.
  virtual void run(const Buffer& a, const Buffer* b, Buffer& y) = 0;
};

class AttentionKernel {
 public:
  virtual ~AttentionKernel() = default;
  virtual void run(const Buffer& q, const Buffer& k, const Buffer& v, Buffer& o) = 0;
};

class MatmulKernel {
 public:
  virtual ~MatmulKernel() = default;
  // bias may be null when the shape has no bias. On a CPU backend C is complete on return;
  // a GPU backend enqueues the work (Backend::synchronize() waits for it).
  virtual void run(const Buffer& a, const Buffer& b, const Buffer* bias, Buffer& c) = 0;
};

// Times work on the device's own clock (CUDA events): start() before the work is enqueued,
// stop() after; stop() waits for the work and returns the seconds between the two.
class DeviceTimer {
 public:
  virtual ~DeviceTimer() = default;
  virtual void start() = 0;
  virtual double stop() = 0;
};

// A recorded sequence of ops (a CUDA graph) that replays with one launch.
class RecordedOps {
 public:
  virtual ~RecordedOps() = default;
  virtual void replay() = 0;
};

// Host <-> backend copies so far (wall clock of the blocking upload()/download() calls), so a
// GPU run can report what moving data costs beside the timed work, which excludes it.
struct TransferTotals {
  double upload_s = 0, upload_bytes = 0, download_s = 0, download_bytes = 0;
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
  // The arithmetic of its matmuls: "f32", or "bf16" where operands are rounded to bf16
  // (fp32 accumulation), with the relative rounding that adds to each operand.
  virtual std::string dtype() const { return "f32"; }
  virtual double operand_rounding() const { return 0.0; }

  // Threads: single-threaded backends accept only 1.
  virtual int max_threads() const { return 1; }
  bool is_multithreaded() const { return max_threads() > 1; }
  void set_threads(int threads);
  int threads() const { return threads_; }

  // Memory.
  virtual Buffer allocate(std::size_t bytes) = 0;
  virtual void upload(Buffer& dst, std::span<const float> src) = 0;
  virtual void download(const Buffer& src, std::span<float> dst) = 0;
  // Ops may run asynchronously (a GPU backend enqueues them in order on its stream);
  // synchronize() waits until all of them are done, and download() waits by itself.
  // A CPU backend's ops are done when they return.
  virtual void synchronize() {}
  // A timer on the device's clock; null where wall-clock time around the work (followed
  // by synchronize()) is the honest measure, as on the CPU backends.
  virtual std::unique_ptr<DeviceTimer> make_timer() { return nullptr; }
  // Kept by the backends whose memory is not the host's (the GPU ones); zeros elsewhere.
  virtual TransferTotals transfers() const { return {}; }
  // Records what `ops` enqueues without running it, for replay at the cost of one launch
  // (a CUDA graph: a decode step's ~150 kernels). Null where the backend cannot, and then
  // `ops` has not run. The ops must not synchronize or read results back.
  virtual std::unique_ptr<RecordedOps> record(const std::function<void()>& ops);

  Buffer upload_new(std::span<const float> src) {
    Buffer b = allocate(src.size_bytes());
    upload(b, src);
    return b;
  }

  // Ops. The default says the op is not implemented on this backend.
  virtual std::unique_ptr<MatmulKernel> make_matmul(const MatmulShape& shape);
  // May throw InsufficientMemory (e.g. a path that materializes the score matrix).
  virtual std::unique_ptr<AttentionKernel> make_attention(const AttentionShape& shape);
  virtual std::unique_ptr<LayernormKernel> make_layernorm(const LayernormShape& shape);
  virtual std::unique_ptr<ElementwiseKernel> make_elementwise(const ElementwiseShape& shape);

  // Data movement for the decoder: no set-up worth preparing, so plain calls. Offsets and
  // counts are in floats. Each returns when done, like a kernel.
  // x[t,:] = wte[ids[t],:] + wpe[pos0 + t,:] for t < ids.size(); ids already validated.
  virtual void embed(std::span<const std::int32_t> ids, std::int64_t pos0, std::int64_t dim,
                     const Buffer& wte, const Buffer& wpe, Buffer& x);
  // Q goes to q [H, T, D]; K and V to rows pos0 .. pos0 + T - 1 of the caches.
  virtual void split_heads(const HeadsShape& shape, std::int64_t pos0, const Buffer& qkv,
                           Buffer& q, Buffer& k_cache, Buffer& v_cache);
  // o [H, T, D] -> y [T, H * D].
  virtual void merge_heads(const HeadsShape& shape, const Buffer& o, Buffer& y);
  virtual void copy(const Buffer& src, std::size_t src_offset, Buffer& dst,
                    std::size_t dst_offset, std::size_t count);

 protected:
  int threads_ = 1;
};

}  // namespace aigc
