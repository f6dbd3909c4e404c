#pragma once
// Backends: a descriptor (what it is, what it offers, whether it can run here) and the
// Backend interface (memory, data movement, op kernels from its kernel table).
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "core/buffer.hpp"
#include "core/data_movement.hpp"
#include "core/errors.hpp"
#include "core/kernel_table.hpp"
#include "core/ops/ops.hpp"

namespace aigc {

struct Availability {
  bool available = true;
  std::string reason;  // why not, when not available ("no CUDA device", ...)
};

// What kind of hardware a backend drives; picks the roofline ceilings it is held to.
enum class ComputeClass { scalar_core, simd_core, gpu };

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

class Backend;

// How a backend's arithmetic rounds a matmul's operands, for its tolerance.
struct OperandRounding {
  double relative = 0.0;  // each operand's relative rounding (bf16: 2^-8)
  // How A is rounded before the products. int8_blocks (the block formats on int8 dot
  // products): the error is relative to sum_k amax(A's block) |B's weight| instead
  // (workloads/matmul.hpp's int8_matmul_tolerance).
  ActivationRounding activations = ActivationRounding::none;
};

// What a backend is and can do, answered without building it (ggml's registry -> device
// split): `aigcbench list`, the run planner and the benchmark registration ask descriptors;
// only a case that runs calls make(). Each backend folder defines its descriptor beside the
// backend class; kernels/registry.cpp lists them.
struct BackendDescriptor {
  std::string name;
  std::string description;
  ComputeClass compute_class = ComputeClass::simd_core;
  // The arithmetic its ops offer ("f32"; "bf16" where operands are rounded to bf16 with fp32
  // accumulation). The first is what a run measures.
  std::vector<std::string> dtypes{"f32"};
  // The relative rounding the first dtype adds to each operand (bf16: 2^-8), for tolerances.
  double operand_rounding = 0.0;
  // Its kernels, one per op it offers (for every dtype in `dtypes`), added by its kernel files
  // (core/kernel_table.hpp); null: none (a GPU backend in a build without the CUDA toolkit).
  std::function<const KernelTable*()> kernels = [] { return nullptr; };
  // The formats its matmul takes B's weights in (core/weight_format): f32 everywhere, the
  // reduced and compressed formats where its kernels compute on them directly.
  std::vector<WeightFormat> weight_formats{WeightFormat::f32};
  // Of those, the formats whose matmul also rounds A to bf16 (oneDNN 2.6 multiplies bf16 only
  // by bf16): their tolerance widens by bf16's 2^-8, and the decoder, whose bound counts on
  // fp32 activations, is not run on them.
  std::vector<WeightFormat> bf16_activations;
  // Of those, the block formats whose matrix-vector product (decode) quantizes A per block of
  // 32 to int8 and sums in integers (simd and openmp where the CPU has AVX512-VNNI): their
  // tolerance is int8's, and the decoder's bound adds the activations' rounding.
  std::vector<WeightFormat> int8_activations;
  bool device_timer = false;  // timed on the device's clock (CUDA events), not wall clock
  // Offers Backend::attend_decode_batch (a batch's decode attention in one call); without it
  // the decoder runs split_heads, an attention kernel and merge_heads per sequence.
  bool decode_batch_attention = false;
  std::function<int()> max_threads = [] { return 1; };  // 1: single-threaded
  std::function<Availability()> availability = [] { return Availability{}; };
  // The instruction set that runs ("none", "AVX3", "onednn:avx512_core", "sm_90").
  std::function<std::string()> simd_target = [] { return std::string("none"); };
  std::function<std::unique_ptr<Backend>()> make;

  // The ops its kernel table holds, in kAllOps order.
  std::vector<Op> ops() const;
  bool supports(Op op, const std::string& dtype) const;
  bool is_multithreaded() const { return max_threads() > 1; }
  const std::string& default_dtype() const { return dtypes.front(); }
  // "skipped"-row text for an op it lacks: "<backend> has no <op> for <dtype>".
  std::string lacks(Op op, const std::string& dtype) const;
  bool takes(WeightFormat f) const;
  // The rounding a matmul on B stored in `f` adds to its operands: the dtype's, bf16's 2^-8
  // where the format rounds A to bf16 (bf16_activations), int8 blocks (int8_activations).
  OperandRounding operand_rounding_for(WeightFormat f) const;
  // "skipped"-row text for a weight format it lacks: "<backend> has no matmul for q4_1 weights".
  std::string lacks(WeightFormat f) const;
};

// The one interface every backend implements: memory (buffers it owns, so a GPU backend can
// keep data on the device), data movement, and factories for the ops its descriptor offers.
class Backend {
 public:
  explicit Backend(const BackendDescriptor& descriptor) : descriptor_(descriptor) {}
  virtual ~Backend() = default;
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;

  const BackendDescriptor& descriptor() const { return descriptor_; }
  const std::string& name() const { return descriptor_.name; }
  const std::string& description() const { return descriptor_.description; }
  Availability availability() const { return descriptor_.availability(); }
  ComputeClass compute_class() const { return descriptor_.compute_class; }
  std::string simd_target() const { return descriptor_.simd_target(); }
  const std::string& dtype() const { return descriptor_.default_dtype(); }
  double operand_rounding() const { return descriptor_.operand_rounding; }

  // Threads: single-threaded backends accept only 1.
  int max_threads() const { return descriptor_.max_threads(); }
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
  // Weights as stored in a format (quantize_rows()' bytes), in a buffer rounded up to whole
  // floats so that every backend's float upload moves them.
  Buffer upload_weights(std::span<const std::uint8_t> stored);

  // A kernel for `shape`'s op (core/ops/ops.hpp), from the descriptor's kernel table. An op
  // the table lacks is a caller's bug (ask descriptor().supports() first) and throws
  // UnsupportedOp with the lacks() text, as does a matmul's weight format the backend does not
  // take. A shape no kernel can take (attention's H not a multiple of kv_heads, rope's odd
  // head_dim) throws std::invalid_argument before any backend sees it. make_kernel may throw
  // InsufficientMemory (an attention that materializes the scores).
  template <KernelShape Shape>
  std::unique_ptr<KernelOf<Shape>> make_kernel(const Shape& shape) {
    const Op op = OpTraits<Shape>::op;
    require_offered(op);
    if constexpr (std::is_same_v<Shape, MatmulShape>) require_takes(shape.b_format);
    require_valid_shape(shape);
    return checked(op, descriptor_.kernels()->make(*this, shape));
  }

  // The decoder's data movement on this backend's memory (core/data_movement.hpp): token ids,
  // the embedding gather, argmax, the heads' split and merge, copies. An interface of its own,
  // implemented once per kind of memory (the host's, a CUDA device's), not more virtuals here.
  virtual DataMovement& moves() = 0;
  // One decode step's attention for a batch of B sequences, each with its own caches and
  // position (shape.tokens = 1; B = positions.size()): row r of qkv [B, qkv_row] is sequence
  // r's new token; its K and V heads go into k_caches[r] and v_caches[r] at positions[r], its
  // query heads attend to positions 0 .. positions[r] of those caches, and the merged heads are
  // row r of y [B, H * D]. One call instead of B rounds of split, attention and merge: no
  // copies, and the (sequence, head) pairs of the whole batch shared among the threads. Only
  // where descriptor().decode_batch_attention (UnsupportedOp otherwise); buffers are checked.
  void attend_decode_batch(const HeadsShape& shape, std::span<const std::int64_t> positions,
                           const Buffer& qkv, std::span<Buffer* const> k_caches,
                           std::span<Buffer* const> v_caches, Buffer& y);

 protected:
  // attend_decode_batch's work, after its checks (where the descriptor offers it).
  virtual void run_decode_batch_attention(const HeadsShape&, std::span<const std::int64_t>,
                                          const Buffer&, std::span<Buffer* const>,
                                          std::span<Buffer* const>, Buffer&) {}

  int threads_ = 1;

 private:
  void require_offered(Op op) const;
  void require_takes(WeightFormat f) const;
  // A table that lists the op but builds no kernel is a backend bug, said as such.
  template <typename Kernel>
  std::unique_ptr<Kernel> checked(Op op, std::unique_ptr<Kernel> k) const {
    if (!k) fail_no_kernel(op);
    return k;
  }
  [[noreturn]] void fail_no_kernel(Op op) const;

  const BackendDescriptor& descriptor_;
};

}  // namespace aigc
