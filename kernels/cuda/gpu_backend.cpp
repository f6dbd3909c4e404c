#include "kernels/cuda/gpu_backend.hpp"

#include <chrono>
#include <memory>
#include <type_traits>

#include <fmt/format.h>

#include "core/buffer_checks.hpp"
#include "kernels/cuda/check.hpp"
#include "kernels/cuda/device_query.hpp"
#include "kernels/cuda/launch.hpp"

namespace aigc::cuda {

GpuBackend::~GpuBackend() {
  // No throwing from a destructor: a failure here has nothing left to corrupt.
  if (stream_ != nullptr) cudaStreamDestroy(stream_);
}

cudaStream_t GpuBackend::stream() {
  if (stream_ == nullptr) {
    if (const Availability av = availability(); !av.available) {
      throw std::runtime_error(fmt::format("backend '{}' unavailable: {}", name(), av.reason));
    }
    // Non-blocking: no implicit ordering with the legacy default stream; every copy below
    // goes on this stream explicitly.
    AIGC_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  }
  return stream_;
}

Buffer allocate_workspace(std::size_t bytes, const char* what) {
  std::size_t free = 0, total = 0;
  AIGC_CUDA_CHECK(cudaMemGetInfo(&free, &total));
  if (bytes > free) {
    throw InsufficientMemory(
        fmt::format("{} needs {:.2f} GiB of device memory; {:.2f} GiB of "
                    "{:.2f} GiB are free",
                    what, bytes / 1073741824.0, free / 1073741824.0, total / 1073741824.0));
  }
  void* p = nullptr;
  const cudaError_t status = cudaMalloc(&p, bytes == 0 ? 1 : bytes);
  if (status == cudaErrorMemoryAllocation) {
    cudaGetLastError();  // clear the sticky-free allocation error
    throw InsufficientMemory(
        fmt::format("{} needs {:.2f} GiB of device memory", what, bytes / 1073741824.0));
  }
  AIGC_CUDA_CHECK(status);
  return Buffer(p, bytes, [](void* q) { cudaFree(q); });
}

Buffer GpuBackend::allocate(std::size_t bytes) {
  stream();  // fails with the reason when there is no device
  return allocate_workspace(bytes, "a buffer");
}

// A blocking copy on this backend's stream, timed alone (earlier work is waited for first).
// Returns its seconds.
double GpuBackend::timed_copy(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind) {
  synchronize();
  const auto start = std::chrono::steady_clock::now();
  AIGC_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, kind, stream()));
  AIGC_CUDA_CHECK(cudaStreamSynchronize(stream()));
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void GpuBackend::upload(Buffer& dst, std::span<const float> src) {
  require_upload_fits(dst, src.size_bytes());
  if (src.empty()) return;
  transfers_.upload_s +=
      timed_copy(dst.data(), src.data(), src.size_bytes(), cudaMemcpyHostToDevice);
  transfers_.upload_bytes += double(src.size_bytes());
}

void GpuBackend::download(const Buffer& src, std::span<float> dst) {
  require_download_fits(src, dst.size_bytes());
  if (dst.empty()) return;
  transfers_.download_s +=
      timed_copy(dst.data(), src.data(), dst.size_bytes(), cudaMemcpyDeviceToHost);
  transfers_.download_bytes += double(dst.size_bytes());
}

void GpuBackend::synchronize() {
  if (stream_ != nullptr) AIGC_CUDA_CHECK(cudaStreamSynchronize(stream_));
}

namespace {

class EventTimer final : public DeviceTimer {
 public:
  explicit EventTimer(cudaStream_t stream) : stream_(stream) {
    AIGC_CUDA_CHECK(cudaEventCreate(&start_));
    AIGC_CUDA_CHECK(cudaEventCreate(&stop_));
  }
  ~EventTimer() override {
    cudaEventDestroy(start_);
    cudaEventDestroy(stop_);
  }
  void start() override { AIGC_CUDA_CHECK(cudaEventRecord(start_, stream_)); }
  double stop() override {
    AIGC_CUDA_CHECK(cudaEventRecord(stop_, stream_));
    AIGC_CUDA_CHECK(cudaEventSynchronize(stop_));
    float ms = 0;
    AIGC_CUDA_CHECK(cudaEventElapsedTime(&ms, start_, stop_));
    return ms * 1e-3;
  }

 private:
  cudaStream_t stream_;
  cudaEvent_t start_ = nullptr, stop_ = nullptr;
};

// RAII holders, so that a constructor that throws half-way (an instantiation that fails)
// still releases what it made.
struct GraphDeleter {
  void operator()(cudaGraph_t g) const { cudaGraphDestroy(g); }
};
struct GraphExecDeleter {
  void operator()(cudaGraphExec_t e) const { cudaGraphExecDestroy(e); }
};
using GraphHolder = std::unique_ptr<std::remove_pointer_t<cudaGraph_t>, GraphDeleter>;
using GraphExecHolder = std::unique_ptr<std::remove_pointer_t<cudaGraphExec_t>, GraphExecDeleter>;

class Graph final : public RecordedOps {
 public:
  Graph(GraphHolder graph, cudaStream_t stream) : graph_(std::move(graph)), stream_(stream) {
    cudaGraphExec_t exec = nullptr;
    AIGC_CUDA_CHECK(cudaGraphInstantiate(&exec, graph_.get(), 0));
    exec_.reset(exec);
  }
  void replay() override { AIGC_CUDA_CHECK(cudaGraphLaunch(exec_.get(), stream_)); }

 private:
  GraphHolder graph_;
  cudaStream_t stream_;
  GraphExecHolder exec_;
};

}  // namespace

std::unique_ptr<DeviceTimer> make_event_timer(cudaStream_t stream) {
  return std::make_unique<EventTimer>(stream);
}

std::unique_ptr<DeviceTimer> GpuBackend::make_timer() { return make_event_timer(stream()); }

std::unique_ptr<RecordedOps> GpuBackend::record(const std::function<void()>& ops) {
  cudaStream_t s = stream();
  AIGC_CUDA_CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
  try {
    ops();
  } catch (...) {
    cudaGraph_t partial = nullptr;
    cudaStreamEndCapture(s, &partial);  // leaves the stream usable again
    GraphHolder discard(partial);
    // A launch that failed inside the capture leaves its error as the last error; clear it, so
    // that the next launch check does not report it as its own. (A sticky fault stays.)
    cudaGetLastError();
    throw;
  }
  cudaGraph_t graph = nullptr;
  const cudaError_t ended = cudaStreamEndCapture(s, &graph);
  GraphHolder holder(graph);
  if (ended != cudaSuccess) cudaGetLastError();
  AIGC_CUDA_CHECK(ended);
  return std::make_unique<Graph>(std::move(holder), s);
}

void GpuDataMovement::upload_ids(Buffer& dst, std::size_t offset,
                                 std::span<const std::int32_t> src) {
  require_ids(dst, offset, src.size(), "upload_ids");
  if (src.empty()) return;
  // From pageable memory, cudaMemcpyAsync has staged the ids when it returns, and the copy is
  // ordered after earlier work on the stream that still reads the buffer.
  AIGC_CUDA_CHECK(cudaMemcpyAsync(dst.as<std::int32_t>() + offset, src.data(), src.size_bytes(),
                                  cudaMemcpyHostToDevice, backend_.stream()));
}

void GpuDataMovement::download_ids(const Buffer& src, std::size_t offset,
                                   std::span<std::int32_t> dst) {
  require_ids(src, offset, dst.size(), "download_ids");
  if (dst.empty()) return;
  AIGC_CUDA_CHECK(cudaMemcpyAsync(dst.data(), src.as<const std::int32_t>() + offset,
                                  dst.size_bytes(), cudaMemcpyDeviceToHost, backend_.stream()));
  AIGC_CUDA_CHECK(cudaStreamSynchronize(backend_.stream()));
}

void GpuDataMovement::embed(const Buffer& ids, std::size_t first, std::int64_t count,
                            std::int64_t pos0, std::int64_t dim, const Buffer& wte,
                            const Buffer* wpe, Buffer& x, VocabRows rows, float scale) {
  require_embed_buffers(ids, first, count, pos0, dim, wte, wpe, x, rows);
  const std::int64_t table_rows = static_cast<std::int64_t>(wte.bytes() / sizeof(float)) / dim;
  launch_embed(ids.as<const std::int32_t>() + first, count, pos0, dim,
               {.begin = rows.begin,
                .rows = table_rows,
                .vocab = rows.vocab > 0 ? rows.vocab : table_rows,
                .scale = scale},
               wte.as<const float>(), wpe != nullptr ? wpe->as<const float>() : nullptr,
               x.as<float>(), backend_.stream());
}

void GpuDataMovement::argmax(const Buffer& logits, std::size_t first, std::int64_t n, Buffer& ids,
                             std::size_t index) {
  require_argmax_buffers(logits, first, n, ids, index);
  launch_argmax(logits.as<const float>() + first, n, ids.as<std::int32_t>() + index,
                backend_.stream());
}

void GpuDataMovement::split_heads(const HeadsShape& s, std::int64_t pos0, const Buffer& qkv,
                                  Buffer& q, Buffer& k_cache, Buffer& v_cache) {
  require_split_heads_buffers(s, pos0, qkv, q, k_cache, v_cache);
  launch_split_heads(qkv.as<const float>(), q.as<float>(), k_cache.as<float>(), v_cache.as<float>(),
                     s.tokens, s.heads, s.kv_head_count(), s.head_dim, s.capacity, pos0,
                     backend_.stream());
}

void GpuDataMovement::merge_heads(const HeadsShape& s, const Buffer& o, Buffer& y) {
  require_merge_heads_buffers(s, o, y);
  launch_merge_heads(o.as<const float>(), y.as<float>(), s.tokens, s.heads, s.head_dim,
                     backend_.stream());
}

void GpuDataMovement::copy(const Buffer& src, std::size_t src_offset, Buffer& dst,
                           std::size_t dst_offset, std::size_t count) {
  require_copy_buffers(src, src_offset, dst, dst_offset, count);
  if (count == 0) return;
  AIGC_CUDA_CHECK(cudaMemcpyAsync(dst.as<float>() + dst_offset, src.as<const float>() + src_offset,
                                  count * sizeof(float), cudaMemcpyDeviceToDevice,
                                  backend_.stream()));
}

void GpuDataMovement::copy_rows(const Buffer& src, Buffer& dst, const RowCopy& c) {
  require_row_copy_buffers(src, dst, c);
  if (c.rows == 0 || c.count == 0) return;
  AIGC_CUDA_CHECK(cudaMemcpy2DAsync(dst.as<float>() + c.dst_offset, c.dst_stride * sizeof(float),
                                    src.as<const float>() + c.src_offset,
                                    c.src_stride * sizeof(float), c.count * sizeof(float), c.rows,
                                    cudaMemcpyDeviceToDevice, backend_.stream()));
}

void refuse_cpu_only_attention(const Backend& b, const AttentionShape& s) {
  if (s.window > 0) {
    throw UnsupportedOp(
        fmt::format("{} has no sliding-window attention (window={}): its "
                    "attention kernels see every key",
                    b.name(), s.window));
  }
  if (s.kv_format != WeightFormat::f32) {
    throw UnsupportedOp(
        fmt::format("{} has no KV cache in {} (its attention kernels read fp32 "
                    "caches)",
                    b.name(), weight_format_name(s.kv_format)));
  }
}

}  // namespace aigc::cuda
