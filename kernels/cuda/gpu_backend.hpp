#pragma once
// What every GPU backend (cuda, cublas) shares: device memory, one stream all ops are
// enqueued on, copies, CUDA-event timing, graph recording, and the decoder's vector ops and
// data movement (our own kernels in both backends: cuBLAS has no layernorm or gather). The
// vector kernels (layernorm.cpp, rmsnorm.cpp, elementwise.cpp, rope.cpp beside this file) are
// in gpu_kernels(), the table each GPU backend's own (matmul, attention) builds on.
#include <cuda_runtime_api.h>

#include "core/backend.hpp"
#include "kernels/cuda/descriptors.hpp"

namespace aigc::cuda {

class GpuBackend;

// The decoder's data movement in device memory (core/data_movement.hpp): kernels and async
// copies enqueued on the backend's stream.
class GpuDataMovement final : public DataMovement {
 public:
  explicit GpuDataMovement(GpuBackend& backend) : backend_(backend) {}
  void upload_ids(Buffer& dst, std::size_t offset, std::span<const std::int32_t> src) override;
  void download_ids(const Buffer& src, std::size_t offset, std::span<std::int32_t> dst) override;
  void embed(const Buffer& ids, std::size_t first, std::int64_t count, std::int64_t pos0,
             std::int64_t dim, const Buffer& wte, const Buffer* wpe, Buffer& x, VocabRows rows = {},
             float scale = 1.0f) override;
  void argmax(const Buffer& logits, std::size_t first, std::int64_t n, Buffer& ids,
              std::size_t index) override;
  void split_heads(const HeadsShape& shape, std::int64_t pos0, const Buffer& qkv, Buffer& q,
                   Buffer& k_cache, Buffer& v_cache) override;
  void merge_heads(const HeadsShape& shape, const Buffer& o, Buffer& y) override;
  void copy(const Buffer& src, std::size_t src_offset, Buffer& dst, std::size_t dst_offset,
            std::size_t count) override;
  void copy_rows(const Buffer& src, Buffer& dst, const RowCopy& c) override;

 private:
  GpuBackend& backend_;
};

class GpuBackend : public Backend {
 public:
  using Backend::Backend;
  ~GpuBackend() override;

  Buffer allocate(std::size_t bytes) override;
  void upload(Buffer& dst, std::span<const float> src) override;
  void download(const Buffer& src, std::span<float> dst) override;
  void synchronize() override;
  std::unique_ptr<DeviceTimer> make_timer() override;
  TransferTotals transfers() const override { return transfers_; }
  std::unique_ptr<RecordedOps> record(const std::function<void()>& ops) override;

  DataMovement& moves() override { return moves_; }

  // The stream every op of this backend is enqueued on (created on first use, so that
  // constructing a backend on a machine without a GPU touches nothing).
  cudaStream_t stream();

 private:
  double timed_copy(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind);

  cudaStream_t stream_ = nullptr;
  TransferTotals transfers_;
  GpuDataMovement moves_{*this};
};

// The backend a GPU kernel table's factory is handed (a Backend&: the tables hold GPU kernels
// only), as T, with its stream made first: without a device this throws the reason before any
// kernel is built.
template <typename T = GpuBackend>
T& started(Backend& b) {
  T& backend = dynamic_cast<T&>(b);
  backend.stream();
  return backend;
}

// The GPU attention kernels see every key up to a query's own, in fp32 caches: a sliding window
// (Gemma 3's local layers) or a KV cache in f16 or q8_0 is refused by name (UnsupportedOp)
// rather than computed as something else.
void refuse_cpu_only_attention(const Backend& b, const AttentionShape& s);

// CUDA events on `stream` (what GpuBackend::make_timer() returns; the probe times with it too).
std::unique_ptr<DeviceTimer> make_event_timer(cudaStream_t stream);
// Device memory for a workspace; InsufficientMemory (with the sizes) when the device lacks it.
Buffer allocate_workspace(std::size_t bytes, const char* what);

}  // namespace aigc::cuda
