// The cuda backends' attention: the scores in global memory (cuda-naive) or fused flash
// attention with a split-K decode path (the later steps).
#include <limits>
#include <memory>

#include <fmt/format.h>

#include "core/weight_format.hpp"
#include "kernels/cuda/check.hpp"
#include "kernels/cuda/cuda_backend.hpp"
#include "kernels/cuda/descriptors.hpp"

namespace aigc::cuda {
namespace {

// The sizes alone, for planning before any buffer exists.
AttentionArgs attention_sizes(const AttentionShape& s) {
  return {.B = s.B,
          .H = s.H,
          .S = s.S,
          .L = s.L,
          .D = s.D,
          .capacity = s.capacity(),
          .kv_heads = s.kv_head_count()};
}

AttentionArgs attention_args(const AttentionShape& s, const Buffer& q, const Buffer& k,
                             const Buffer& v, Buffer& o) {
  AttentionArgs a = attention_sizes(s);
  a.q = q.as<const float>();
  a.k = k.as<const float>();
  a.v = v.as<const float>();
  a.o = o.as<float>();
  return a;
}

// The score matrix's bytes, after checking that every launch of the shape fits its grid (the
// softmax takes one block per row), so that nothing is allocated for a shape refused later.
std::size_t naive_score_bytes(const AttentionShape& s) {
  if (s.B * s.H * s.S > std::numeric_limits<int>::max()) {
    throw UnsupportedOp(
        fmt::format("naive attention: {} score rows (B*H*S) exceed a CUDA grid's {}",
                    s.B * s.H * s.S, std::numeric_limits<int>::max()));
  }
  return static_cast<std::size_t>(s.B * s.H * s.S * s.L) * sizeof(float);
}

class NaiveAttention final : public AttentionKernel {
 public:
  NaiveAttention(GpuBackend& backend, const AttentionShape& s)
      : AttentionKernel(s),
        backend_(backend),
        scores_(allocate_workspace(naive_score_bytes(s), "naive attention's score matrix")) {}
  void compute(const Buffer& q, const Buffer& k, const Buffer& v, Buffer& o) override {
    launch_attention_naive(attention_args(shape(), q, k, v, o), scores_.as<float>(),
                           backend_.stream());
  }

 private:
  GpuBackend& backend_;
  Buffer scores_;
};

class FusedAttention final : public AttentionKernel {
 public:
  FusedAttention(GpuBackend& backend, const AttentionShape& s)
      : AttentionKernel(s), backend_(backend) {
    if (!flash_attention_supports(s.D)) {
      throw UnsupportedOp(fmt::format("fused attention takes head dimensions 1..{}, not {}",
                                      kFlashMaxHeadDim, s.D));
    }
    const std::int64_t floats = flash_attention_workspace_floats(attention_sizes(s));
    if (floats > 0) {
      workspace_ = allocate_workspace(static_cast<std::size_t>(floats) * sizeof(float),
                                      "decode attention's partial results");
    }
  }
  void compute(const Buffer& q, const Buffer& k, const Buffer& v, Buffer& o) override {
    launch_attention_flash(attention_args(shape(), q, k, v, o), workspace_.as<float>(),
                           backend_.stream());
  }

 private:
  GpuBackend& backend_;
  Buffer workspace_;
};

std::unique_ptr<AttentionKernel> make_attention(Backend& b, const AttentionShape& s) {
  refuse_cpu_only_attention(b, s);
  auto& backend = started<CudaBackend>(b);
  if (backend.variant().attention == AttentionVariant::naive) {
    return std::make_unique<NaiveAttention>(backend, s);
  }
  return std::make_unique<FusedAttention>(backend, s);
}

}  // namespace

AIGC_REGISTER_KERNEL(cuda_kernels(), AttentionShape, make_attention);

}  // namespace aigc::cuda
