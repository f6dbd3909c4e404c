// The `cuda` backends (kernels/cuda/descriptors.cpp lists the ladder): our own matmul and
// attention kernels on the shared GPU backend.
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "core/weight_format.hpp"
#include "kernels/cuda/check.hpp"
#include "kernels/cuda/gpu_backend.hpp"
#include "kernels/cuda/launch.hpp"

namespace aigc {
namespace {

using cuda::GpuBackend;
using cuda::MatmulVariant;

enum class AttentionVariant { naive, fused, none };

struct Variant {
  const char* name;
  MatmulVariant matmul;
  AttentionVariant attention;
};

constexpr Variant kVariants[] = {
    {"cuda-naive", MatmulVariant::naive, AttentionVariant::naive},
    {"cuda-tiled", MatmulVariant::tiled, AttentionVariant::fused},
    {"cuda", MatmulVariant::register_blocked, AttentionVariant::fused},
    {"cuda-bf16", MatmulVariant::bf16_tensor_core, AttentionVariant::none},
};

class CudaMatmul final : public MatmulKernel {
 public:
  CudaMatmul(GpuBackend& backend, MatmulVariant variant, const MatmulShape& s)
      : MatmulKernel(s), backend_(backend), variant_(variant) {
    if (stored()) {
      const std::int64_t floats = cuda::stored_matmul_workspace_floats(sizes(s));
      if (floats > 0) {
        workspace_ = cuda::allocate_workspace(static_cast<std::size_t>(floats) * sizeof(float),
                                              "the matmul's weights widened to fp32 (prefill)");
      }
      return;
    }
    const std::int64_t floats = cuda::matmul_workspace_floats(variant, sizes(s));
    if (floats > 0) {
      workspace_ = cuda::allocate_workspace(static_cast<std::size_t>(floats) * sizeof(float),
                                            "the matmul's split-K partial sums");
    }
  }
  void compute(const Buffer& a, const Buffer& b, const Buffer* bias, Buffer& c) override {
    cuda::GemmArgs g = sizes(shape());
    g.a = a.as<const float>();
    g.bias = shape().bias ? bias->as<const float>() : nullptr;
    g.c = c.as<float>();
    if (stored()) {
      const cuda::StoredB stored_b{.format = shape().b_format,
                                   .bytes = b.as<const std::uint8_t>(),
                                   .row_bytes = row_bytes(shape().b_format, shape().K)};
      cuda::launch_matmul_stored(variant_, g, stored_b, workspace_.as<float>(), backend_.stream());
      return;
    }
    g.b = b.as<const float>();
    cuda::launch_matmul(variant_, g, workspace_.as<float>(), backend_.stream());
  }

 private:
  bool stored() const { return shape().b_format != WeightFormat::f32; }
  static cuda::GemmArgs sizes(const MatmulShape& s) {
    return {.M = s.M, .N = s.N, .K = s.K, .transpose_b = s.transpose_b};
  }

  GpuBackend& backend_;
  MatmulVariant variant_;
  Buffer workspace_;
};

// The sizes alone, for planning before any buffer exists.
cuda::AttentionArgs attention_sizes(const AttentionShape& s) {
  return {.B = s.B,
          .H = s.H,
          .S = s.S,
          .L = s.L,
          .D = s.D,
          .capacity = s.capacity(),
          .kv_heads = s.kv_head_count()};
}

cuda::AttentionArgs attention_args(const AttentionShape& s, const Buffer& q, const Buffer& k,
                                   const Buffer& v, Buffer& o) {
  cuda::AttentionArgs a = attention_sizes(s);
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
        scores_(cuda::allocate_workspace(naive_score_bytes(s), "naive attention's score matrix")) {}
  void compute(const Buffer& q, const Buffer& k, const Buffer& v, Buffer& o) override {
    cuda::launch_attention_naive(attention_args(shape(), q, k, v, o), scores_.as<float>(),
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
    if (!cuda::flash_attention_supports(s.D)) {
      throw UnsupportedOp(fmt::format("fused attention takes head dimensions 1..{}, not {}",
                                      cuda::kFlashMaxHeadDim, s.D));
    }
    const std::int64_t floats = cuda::flash_attention_workspace_floats(attention_sizes(s));
    if (floats > 0) {
      workspace_ = cuda::allocate_workspace(static_cast<std::size_t>(floats) * sizeof(float),
                                            "decode attention's partial results");
    }
  }
  void compute(const Buffer& q, const Buffer& k, const Buffer& v, Buffer& o) override {
    cuda::launch_attention_flash(attention_args(shape(), q, k, v, o), workspace_.as<float>(),
                                 backend_.stream());
  }

 private:
  GpuBackend& backend_;
  Buffer workspace_;
};

class CudaBackend final : public GpuBackend {
 public:
  CudaBackend(const BackendDescriptor& d, const Variant& v) : GpuBackend(d), v_(v) {}

 protected:
  std::unique_ptr<MatmulKernel> new_matmul(const MatmulShape& shape) override {
    stream();
    return std::make_unique<CudaMatmul>(*this, v_.matmul, shape);
  }
  std::unique_ptr<AttentionKernel> new_attention(const AttentionShape& shape) override {
    stream();
    switch (v_.attention) {
      case AttentionVariant::naive:
        return std::make_unique<NaiveAttention>(*this, shape);
      case AttentionVariant::fused:
        return std::make_unique<FusedAttention>(*this, shape);
      case AttentionVariant::none:
        break;
    }
    return nullptr;
  }

 private:
  Variant v_;
};

}  // namespace

namespace cuda {

std::unique_ptr<Backend> new_cuda_backend(const BackendDescriptor& d) {
  for (const Variant& v : kVariants) {
    if (d.name == v.name) return std::make_unique<CudaBackend>(d, v);
  }
  throw std::logic_error(fmt::format("no CUDA kernel variant is named '{}'", d.name));
}

}  // namespace cuda
}  // namespace aigc
