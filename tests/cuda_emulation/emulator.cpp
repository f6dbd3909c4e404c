// The emulator's scheduler and runtime API (see include/emulator.hpp for what it checks).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <stdexcept>
#include <vector>

#include <boost/context/fiber.hpp>
#include <boost/context/pooled_fixedsize_stack.hpp>

#include "cuda_runtime_api.h"

// The section every __shared__ variable lives in; the linker defines its bounds. One variable
// of the emulator's own keeps the section present when no kernel declares shared memory.
__attribute__((section("aigc_emu_shared"), used)) static char g_section_anchor[16];
extern "C" char __start_aigc_emu_shared[];
extern "C" char __stop_aigc_emu_shared[];

namespace ctx = boost::context;

namespace cuda_emulation {
namespace {

// What a thread waits for; `failed`: it broke a rule and is never resumed.
enum class Wait { none, block_barrier, warp_barrier, done, failed };

struct Thread {
  ctx::fiber fiber;  // this thread's continuation, held by the scheduler while it waits
  ctx::fiber back;   // the scheduler's continuation, held by the thread while it runs
  uint3 index{};
  int warp = 0, lane = 0;
  Wait wait = Wait::none;
  unsigned mask = 0;       // of the warp barrier it waits at
  std::uint32_t word = 0;  // what it offers to a shuffle
};

struct Launch {
  dim3 grid, block;
  uint3 block_index{};
  std::vector<Thread> threads;
  int current = -1;
  std::string failure;  // the first check that failed, with the block and thread
};

Launch* g_launch = nullptr;
std::string g_last_failure;
std::size_t g_launches = 0;
const uint3 kNoIndex{0, 0, 0};
const dim3 kNoDim(0, 0, 0);

std::string where(const Launch& l, int t) {
  const uint3& b = l.block_index;
  const uint3& i = l.threads[t].index;
  char text[160];
  std::snprintf(text, sizeof text, "block (%u,%u,%u), thread (%u,%u,%u) (warp %d, lane %d)", b.x,
                b.y, b.z, i.x, i.y, i.z, l.threads[t].warp, l.threads[t].lane);
  return text;
}

Thread& self() {
  if (g_launch == nullptr || g_launch->current < 0)
    throw std::logic_error("a device function was called outside a kernel launch");
  return g_launch->threads[g_launch->current];
}

// Back to the scheduler until it resumes this thread.
void yield(Wait why) {
  Launch& l = *g_launch;
  const int me = l.current;
  l.threads[me].wait = why;
  l.threads[me].back = std::move(l.threads[me].back).resume();
  l.current = me;
}

// Records the broken rule and leaves the thread suspended for good: the scheduler stops the
// launch. No exception is thrown on a fiber's stack (AddressSanitizer, which the tests also run
// under, cannot follow one across stacks that Boost.Context switches without telling it).
[[noreturn]] void fail(const std::string& what) {
  Launch& l = *g_launch;
  if (l.failure.empty()) l.failure = what + " at " + where(l, l.current);
  yield(Wait::failed);
  std::abort();  // never resumed
}

// Fibers a failed launch left suspended: kept, not destroyed, since destroying one unwinds its
// stack with an exception (see fail()). Reachable, so no leak is reported; a few per failing
// test.
std::vector<ctx::fiber>& retired_fibers() {
  static auto* retired = new std::vector<ctx::fiber>;
  return *retired;
}

// Thread `t` may leave the warp barrier: every lane of its mask waits there with that mask.
bool warp_barrier_complete(const Launch& l, int t) {
  const Thread& me = l.threads[t];
  const int base = me.warp * 32;
  for (int lane = 0; lane < 32; ++lane) {
    if (!(me.mask >> lane & 1u)) continue;
    const int other = base + lane;
    if (other >= int(l.threads.size())) return false;  // reported by the deadlock check
    if (l.threads[other].wait != Wait::warp_barrier || l.threads[other].mask != me.mask)
      return false;
  }
  return true;
}

std::string describe_deadlock(const Launch& l) {
  int at_block = 0, at_warp = 0, done = 0;
  std::string first_warp;
  for (std::size_t t = 0; t < l.threads.size(); ++t) {
    switch (l.threads[t].wait) {
      case Wait::block_barrier:
        ++at_block;
        break;
      case Wait::warp_barrier:
        if (first_warp.empty()) {
          char m[64];
          std::snprintf(m, sizeof m, " (mask 0x%08x)", l.threads[t].mask);
          first_warp = where(l, int(t)) + m;
        }
        ++at_warp;
        break;
      case Wait::done:
        ++done;
        break;
      case Wait::none:
      case Wait::failed:
        break;
    }
  }
  char text[200];
  std::snprintf(text, sizeof text,
                "deadlock: of %zu threads, %d wait at __syncthreads, %d at a warp-synchronous "
                "operation, %d have exited",
                l.threads.size(), at_block, at_warp, done);
  std::string out = text;
  if (done > 0 && at_block > 0) out += " (__syncthreads after some threads returned)";
  if (!first_warp.empty()) out += "; the first warp waiter: " + first_warp;
  return out;
}

void run_block(Launch& l, const std::function<void()>& body) {
  // Shared memory holds garbage at a block's start: NaN bytes.
  std::memset(__start_aigc_emu_shared, 0xff,
              static_cast<std::size_t>(__stop_aigc_emu_shared - __start_aigc_emu_shared));
  static ctx::pooled_fixedsize_stack stacks(256 * 1024);
  const unsigned n = l.block.x * l.block.y * l.block.z;
  l.threads.clear();
  l.threads.resize(n);
  for (unsigned t = 0; t < n; ++t) {
    Thread& th = l.threads[t];
    th.index = {t % l.block.x, t / l.block.x % l.block.y, t / (l.block.x * l.block.y)};
    th.warp = int(t / 32);
    th.lane = int(t % 32);
    th.fiber = ctx::fiber(std::allocator_arg, stacks, [&l, &body, t](ctx::fiber&& scheduler) {
      l.threads[t].back = std::move(scheduler);
      l.current = int(t);
      body();
      l.threads[t].wait = Wait::done;
      return std::move(l.threads[t].back);
    });
  }
  for (;;) {
    bool ran = false;
    for (unsigned t = 0; t < n && l.failure.empty(); ++t) {
      if (l.threads[t].wait != Wait::none) continue;
      l.current = int(t);
      l.threads[t].fiber = std::move(l.threads[t].fiber).resume();
      ran = true;
    }
    l.current = -1;
    if (!l.failure.empty()) break;
    if (ran) continue;
    // Nobody can run: release what may go on, or stop.
    bool all_done = true, released = false;
    for (unsigned t = 0; t < n; ++t) {
      if (l.threads[t].wait != Wait::done) all_done = false;
      if (l.threads[t].wait == Wait::warp_barrier && warp_barrier_complete(l, int(t))) {
        const unsigned mask = l.threads[t].mask;
        const int base = l.threads[t].warp * 32;
        for (int lane = 0; lane < 32; ++lane) {
          if (mask >> lane & 1u) l.threads[base + lane].wait = Wait::none;
        }
        released = true;
      }
    }
    if (all_done) break;
    if (released) continue;
    const bool all_at_block_barrier =
        std::all_of(l.threads.begin(), l.threads.end(),
                    [](const Thread& th) { return th.wait == Wait::block_barrier; });
    if (all_at_block_barrier) {
      for (Thread& th : l.threads) th.wait = Wait::none;
      continue;
    }
    l.failure = describe_deadlock(l);
    break;
  }
  for (Thread& th : l.threads) {
    if (th.fiber) retired_fibers().push_back(std::move(th.fiber));
  }
  l.threads.clear();
}

}  // namespace

const uint3& thread_idx() { return self().index; }
const uint3& block_idx() { return g_launch != nullptr ? g_launch->block_index : kNoIndex; }
const dim3& block_dim() { return g_launch != nullptr ? g_launch->block : kNoDim; }
const dim3& grid_dim() { return g_launch != nullptr ? g_launch->grid : kNoDim; }

void sync_threads() {
  self();
  yield(Wait::block_barrier);
}

void sync_warp(unsigned mask) {
  Thread& me = self();
  if (!(mask >> me.lane & 1u)) fail("a warp-synchronous operation whose mask leaves out its lane");
  const int base = me.warp * 32;
  for (int lane = 0; lane < 32; ++lane) {
    if (!(mask >> lane & 1u)) continue;
    if (base + lane >= int(g_launch->threads.size()))
      fail("a warp-synchronous operation whose mask names a lane past the block");
    if (g_launch->threads[base + lane].wait == Wait::done)
      fail("a warp-synchronous operation whose mask names a lane that has exited");
  }
  me.mask = mask;
  yield(Wait::warp_barrier);
}

std::uint32_t shuffle_xor_bits(unsigned mask, std::uint32_t bits, int lane_mask, int width) {
  Thread& me = self();
  if (width != 32) fail("a shuffle of width other than 32 (not emulated)");
  const int partner = me.lane ^ lane_mask;
  if (partner < 0 || partner > 31 || !(mask >> partner & 1u))
    fail("a shuffle reading a lane outside its mask");
  me.word = bits;
  sync_warp(mask);  // every lane of the mask has offered its word
  const std::uint32_t got = g_launch->threads[me.warp * 32 + partner].word;
  sync_warp(mask);  // and read its partner's before any offers the next
  return got;
}

// --- the runtime ----------------------------------------------------------------------------
namespace {

struct Stream;
using Node = std::function<void()>;

cudaError_t g_last_error = cudaSuccess;
std::map<const char*, std::size_t, std::less<>> g_allocations;  // base -> bytes
std::size_t g_allocated = 0;
constexpr std::size_t kDeviceBytes = std::size_t{16} << 30;

cudaError_t record_error(cudaError_t e) {
  if (e != cudaSuccess) g_last_error = e;
  return e;
}

}  // namespace
}  // namespace cuda_emulation

struct CUstream_st {
  bool capturing = false;
  bool invalidated = false;
  std::vector<cuda_emulation::Node> nodes;
};
struct CUevent_st {
  std::chrono::steady_clock::time_point at{};
};
struct CUgraph_st {
  std::vector<cuda_emulation::Node> nodes;
};
struct CUgraphExec_st {
  std::vector<cuda_emulation::Node> nodes;
};

namespace cuda_emulation {
namespace {

// Whether [p, p + bytes) lies inside one device allocation.
bool on_device(const void* p, std::size_t bytes) {
  const char* c = static_cast<const char*>(p);
  auto it = g_allocations.upper_bound(c);
  if (it == g_allocations.begin()) return false;
  --it;
  return c >= it->first && c + bytes <= it->first + it->second;
}

// A stream op: recorded while its stream is captured, else run now.
void enqueue(CUstream_st* s, Node node) {
  if (s != nullptr && s->capturing) {
    s->nodes.push_back(std::move(node));
  } else {
    node();
  }
}

// What CUDA refuses while a stream is captured: the capture is invalidated as well.
cudaError_t refuse_in_capture(CUstream_st* s) {
  if (s != nullptr && s->capturing) s->invalidated = true;
  return record_error(cudaErrorStreamCaptureUnsupported);
}

}  // namespace

void launch(const dim3& grid, const dim3& block, std::size_t shared_bytes, CUstream_st* stream,
            std::function<void()> body) {
  const unsigned long long threads = 1ull * block.x * block.y * block.z;
  if (grid.x < 1 || grid.x > 2147483647u || grid.y < 1 || grid.y > 65535 || grid.z < 1 ||
      grid.z > 65535 || threads < 1 || threads > 1024 || block.z > 64 || shared_bytes != 0) {
    record_error(cudaErrorInvalidConfiguration);
    if (stream != nullptr && stream->capturing) stream->invalidated = true;
    return;
  }
  enqueue(stream, [grid, block, body = std::move(body)] {
    Launch l;
    l.grid = grid;
    l.block = block;
    Launch* outer = g_launch;
    g_launch = &l;
    ++g_launches;
    for (unsigned z = 0; z < grid.z && l.failure.empty(); ++z) {
      for (unsigned y = 0; y < grid.y && l.failure.empty(); ++y) {
        for (unsigned x = 0; x < grid.x && l.failure.empty(); ++x) {
          l.block_index = {x, y, z};
          run_block(l, body);
        }
      }
    }
    g_launch = outer;
    if (!l.failure.empty()) {
      g_last_failure = l.failure;
      std::fprintf(stderr, "cuda emulation: kernel failed: %s\n", l.failure.c_str());
      record_error(cudaErrorLaunchFailure);
    }
  });
}

std::string last_launch_failure() { return g_last_failure; }
std::size_t launches_run() { return g_launches; }
std::size_t live_allocations() { return g_allocations.size(); }

}  // namespace cuda_emulation

using namespace cuda_emulation;

cudaError_t cudaGetDeviceCount(int* count) {
  *count = 1;
  return cudaSuccess;
}
cudaError_t cudaGetDevice(int* device) {
  *device = 0;
  return cudaSuccess;
}
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (device != 0) return record_error(cudaErrorInvalidValue);
  *prop = {};
  std::snprintf(prop->name, sizeof prop->name, "aigcbench CPU emulation (sm_90)");
  prop->totalGlobalMem = kDeviceBytes;
  prop->sharedMemPerBlock = 48 * 1024;
  prop->major = 9;
  prop->minor = 0;
  prop->multiProcessorCount = kMultiprocessors;
  return cudaSuccess;
}
cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  if (device != 0) return record_error(cudaErrorInvalidValue);
  switch (attr) {
    case cudaDevAttrMultiProcessorCount:
      *value = kMultiprocessors;
      break;
    case cudaDevAttrClockRate:
      *value = 1980000;
      break;
    case cudaDevAttrMemoryClockRate:
      *value = 2619000;
      break;
    case cudaDevAttrGlobalMemoryBusWidth:
      *value = 5120;
      break;
    default:
      return record_error(cudaErrorInvalidValue);
  }
  return cudaSuccess;
}

const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
    case cudaSuccess:
      return "cudaSuccess";
    case cudaErrorInvalidValue:
      return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation:
      return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration:
      return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidDevicePointer:
      return "cudaErrorInvalidDevicePointer";
    case cudaErrorInvalidResourceHandle:
      return "cudaErrorInvalidResourceHandle";
    case cudaErrorLaunchFailure:
      return "cudaErrorLaunchFailure";
    case cudaErrorIllegalAddress:
      return "cudaErrorIllegalAddress";
    case cudaErrorStreamCaptureUnsupported:
      return "cudaErrorStreamCaptureUnsupported";
    case cudaErrorStreamCaptureInvalidated:
      return "cudaErrorStreamCaptureInvalidated";
    case cudaErrorNoDevice:
      return "cudaErrorNoDevice";
    default:
      return "cudaErrorUnknown";
  }
}
const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess:
      return "no error";
    case cudaErrorInvalidValue:
      return "invalid argument";
    case cudaErrorMemoryAllocation:
      return "out of memory";
    case cudaErrorInvalidConfiguration:
      return "invalid configuration argument";
    case cudaErrorLaunchFailure:
      return "unspecified launch failure (emulation: see stderr)";
    case cudaErrorStreamCaptureUnsupported:
      return "operation not permitted when stream is capturing";
    case cudaErrorStreamCaptureInvalidated:
      return "operation failed due to a previous error during capture";
    default:
      return "emulated CUDA error";
  }
}
cudaError_t cudaGetLastError() {
  const cudaError_t e = g_last_error;
  g_last_error = cudaSuccess;
  return e;
}

cudaError_t cudaMalloc(void** ptr, std::size_t bytes) {
  if (g_allocated + bytes > kDeviceBytes) return record_error(cudaErrorMemoryAllocation);
  const std::size_t rounded = (std::max<std::size_t>(bytes, 1) + 255) / 256 * 256;
  void* p = std::aligned_alloc(256, rounded);
  if (p == nullptr) return record_error(cudaErrorMemoryAllocation);
  g_allocations[static_cast<const char*>(p)] = bytes;
  g_allocated += bytes;
  *ptr = p;
  return cudaSuccess;
}
cudaError_t cudaFree(void* ptr) {
  if (ptr == nullptr) return cudaSuccess;
  const auto it = g_allocations.find(static_cast<const char*>(ptr));
  if (it == g_allocations.end()) return record_error(cudaErrorInvalidDevicePointer);
  g_allocated -= it->second;
  g_allocations.erase(it);
  std::free(ptr);
  return cudaSuccess;
}
cudaError_t cudaMemGetInfo(std::size_t* free, std::size_t* total) {
  *free = kDeviceBytes - g_allocated;
  *total = kDeviceBytes;
  return cudaSuccess;
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind,
                            cudaStream_t stream) {
  const bool dst_device = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
  const bool src_device = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  if ((dst_device && !on_device(dst, bytes)) || (src_device && !on_device(src, bytes)) ||
      kind == cudaMemcpyDefault || kind == cudaMemcpyHostToHost) {
    return record_error(cudaErrorInvalidValue);
  }
  if (kind != cudaMemcpyDeviceToDevice && stream != nullptr && stream->capturing) {
    return refuse_in_capture(stream);  // a copy from or to pageable host memory
  }
  enqueue(stream, [dst, src, bytes] { std::memmove(dst, src, bytes); });
  return cudaSuccess;
}
// Device to device only (all the suite asks for): each row checked as cudaMemcpyAsync checks
// its span, pitches at least the width as CUDA requires.
cudaError_t cudaMemcpy2DAsync(void* dst, std::size_t dpitch, const void* src, std::size_t spitch,
                              std::size_t width, std::size_t height, cudaMemcpyKind kind,
                              cudaStream_t stream) {
  if (kind != cudaMemcpyDeviceToDevice || dpitch < width || spitch < width) {
    return record_error(cudaErrorInvalidValue);
  }
  if (height == 0) return cudaSuccess;
  auto* d = static_cast<char*>(dst);
  const auto* s = static_cast<const char*>(src);
  const std::size_t d_span = (height - 1) * dpitch + width, s_span = (height - 1) * spitch + width;
  if (!on_device(d, d_span) || !on_device(s, s_span)) return record_error(cudaErrorInvalidValue);
  enqueue(stream, [d, s, dpitch, spitch, width, height] {
    for (std::size_t r = 0; r < height; ++r) std::memmove(d + r * dpitch, s + r * spitch, width);
  });
  return cudaSuccess;
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned) {
  *stream = new CUstream_st;
  return cudaSuccess;
}
cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  delete stream;
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  if (stream != nullptr && stream->capturing) return refuse_in_capture(stream);
  return cudaSuccess;  // everything ran when it was enqueued
}

cudaError_t cudaEventCreate(cudaEvent_t* event) {
  *event = new CUevent_st;
  return cudaSuccess;
}
cudaError_t cudaEventDestroy(cudaEvent_t event) {
  delete event;
  return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  if (stream != nullptr && stream->capturing) return refuse_in_capture(stream);
  event->at = std::chrono::steady_clock::now();
  return cudaSuccess;
}
cudaError_t cudaEventSynchronize(cudaEvent_t) { return cudaSuccess; }
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t stop) {
  *ms = std::chrono::duration<float, std::milli>(stop->at - start->at).count();
  return cudaSuccess;
}

cudaError_t cudaStreamBeginCapture(cudaStream_t stream, cudaStreamCaptureMode) {
  if (stream == nullptr || stream->capturing) return record_error(cudaErrorInvalidValue);
  stream->capturing = true;
  stream->invalidated = false;
  stream->nodes.clear();
  return cudaSuccess;
}
cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* graph) {
  if (stream == nullptr || !stream->capturing) return record_error(cudaErrorInvalidValue);
  stream->capturing = false;
  std::vector<Node> nodes = std::move(stream->nodes);
  stream->nodes.clear();
  if (stream->invalidated) {
    *graph = nullptr;
    return record_error(cudaErrorStreamCaptureInvalidated);
  }
  *graph = new CUgraph_st{std::move(nodes)};
  return cudaSuccess;
}
cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long) {
  if (graph == nullptr) return record_error(cudaErrorInvalidValue);
  *exec = new CUgraphExec_st{graph->nodes};
  return cudaSuccess;
}
cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream) {
  if (exec == nullptr) return record_error(cudaErrorInvalidValue);
  if (stream != nullptr && stream->capturing) return refuse_in_capture(stream);
  for (const Node& n : exec->nodes) n();
  return cudaSuccess;
}
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  delete exec;
  return cudaSuccess;
}
cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  delete graph;
  return cudaSuccess;
}
