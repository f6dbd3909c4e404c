// The `cuda` backends: our own kernels, one backend per step of the matmul ladder so that a
// run shows what each optimization buys (as llm.c keeps its kernel versions side by side):
//   cuda-naive  naive matmul, attention with the scores in global memory
//   cuda-tiled  shared-memory tiled matmul, fused attention
//   cuda        register-blocked matmul, fused attention (the fast fp32 path)
//   cuda-bf16   tensor-core matmul on bf16-rounded operands (matmul only: the decoder's
//               tolerances are derived for fp32 arithmetic)
#include <cmath>

#include <fmt/format.h>

#include "core/buffer_checks.hpp"
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
  const char* description;
  MatmulVariant matmul;
  AttentionVariant attention;
};

constexpr Variant kNaive{"cuda-naive",
                         "own CUDA kernels, step 0: one thread per output, attention scores in "
                         "global memory",
                         MatmulVariant::naive, AttentionVariant::naive};
constexpr Variant kTiled{"cuda-tiled",
                         "own CUDA kernels, step 1: shared-memory tiled matmul, fused attention",
                         MatmulVariant::tiled, AttentionVariant::fused};
constexpr Variant kFast{"cuda",
                        "own CUDA kernels: register-blocked fp32 matmul, fused (flash) attention",
                        MatmulVariant::register_blocked, AttentionVariant::fused};
constexpr Variant kBf16{"cuda-bf16",
                        "own CUDA kernels: bf16 tensor-core (WMMA) matmul, fp32 accumulation",
                        MatmulVariant::bf16_tensor_core, AttentionVariant::none};

class CudaMatmul final : public MatmulKernel {
 public:
  CudaMatmul(GpuBackend& backend, MatmulVariant variant, const MatmulShape& s)
      : backend_(backend), variant_(variant), s_(s) {}
  void run(const Buffer& a, const Buffer& b, const Buffer* bias, Buffer& c) override {
    require_matmul_buffers(s_, a, b, bias, c);
    cuda::launch_matmul(variant_,
                        {.a = a.as<const float>(),
                         .b = b.as<const float>(),
                         .bias = s_.bias ? bias->as<const float>() : nullptr,
                         .c = c.as<float>(),
                         .M = s_.M,
                         .N = s_.N,
                         .K = s_.K,
                         .transpose_b = s_.transpose_b},
                        backend_.stream());
  }

 private:
  GpuBackend& backend_;
  MatmulVariant variant_;
  MatmulShape s_;
};

cuda::AttentionArgs attention_args(const AttentionShape& s, const Buffer& q, const Buffer& k,
                                   const Buffer& v, Buffer& o) {
  require_attention_buffers(s, q, k, v, o);
  return {.q = q.as<const float>(),
          .k = k.as<const float>(),
          .v = v.as<const float>(),
          .o = o.as<float>(),
          .B = s.B,
          .H = s.H,
          .S = s.S,
          .L = s.L,
          .D = s.D,
          .capacity = s.capacity()};
}

class NaiveAttention final : public AttentionKernel {
 public:
  NaiveAttention(GpuBackend& backend, const AttentionShape& s)
      : backend_(backend),
        s_(s),
        scores_(cuda::allocate_workspace(
            static_cast<std::size_t>(s.B * s.H * s.S * s.L) * sizeof(float),
            "naive attention's score matrix")) {}
  void run(const Buffer& q, const Buffer& k, const Buffer& v, Buffer& o) override {
    cuda::launch_attention_naive(attention_args(s_, q, k, v, o), scores_.as<float>(),
                                 backend_.stream());
  }

 private:
  GpuBackend& backend_;
  AttentionShape s_;
  Buffer scores_;
};

class FusedAttention final : public AttentionKernel {
 public:
  FusedAttention(GpuBackend& backend, const AttentionShape& s) : backend_(backend), s_(s) {
    if (!cuda::flash_attention_supports(s.D)) {
      throw UnsupportedOp(fmt::format("fused attention takes head dimensions 1..{}, not {}",
                                      cuda::kFlashMaxHeadDim, s.D));
    }
    cuda::prepare_attention_flash(s.L);
  }
  void run(const Buffer& q, const Buffer& k, const Buffer& v, Buffer& o) override {
    cuda::launch_attention_flash(attention_args(s_, q, k, v, o), backend_.stream());
  }

 private:
  GpuBackend& backend_;
  AttentionShape s_;
};

class CudaBackend final : public GpuBackend {
 public:
  explicit CudaBackend(const Variant& v) : v_(v) {}
  std::string name() const override { return v_.name; }
  std::string description() const override { return v_.description; }
  std::string dtype() const override {
    return v_.matmul == MatmulVariant::bf16_tensor_core ? "bf16" : "f32";
  }
  double operand_rounding() const override {
    // bf16 keeps 8 significant bits: round to nearest is within 2^-8 relative.
    return v_.matmul == MatmulVariant::bf16_tensor_core ? std::ldexp(1.0, -8) : 0.0;
  }
  std::unique_ptr<MatmulKernel> make_matmul(const MatmulShape& shape) override {
    stream();
    return std::make_unique<CudaMatmul>(*this, v_.matmul, shape);
  }
  std::unique_ptr<AttentionKernel> make_attention(const AttentionShape& shape) override {
    stream();
    switch (v_.attention) {
      case AttentionVariant::naive:
        return std::make_unique<NaiveAttention>(*this, shape);
      case AttentionVariant::fused:
        return std::make_unique<FusedAttention>(*this, shape);
      case AttentionVariant::none:
        break;
    }
    throw matmul_only();
  }
  // The decoder's vector ops are fp32 like the attention: the bf16 variant stops at matmul.
  std::unique_ptr<LayernormKernel> make_layernorm(const LayernormShape& shape) override {
    if (v_.attention == AttentionVariant::none) throw matmul_only();
    return GpuBackend::make_layernorm(shape);
  }

 private:
  UnsupportedOp matmul_only() const {
    return UnsupportedOp(fmt::format(
        "backend '{}' is the bf16 matmul path only; attention and the decoder run on 'cuda'",
        v_.name));
  }

  Variant v_;
};

}  // namespace

std::unique_ptr<Backend> make_cuda_backend() { return std::make_unique<CudaBackend>(kFast); }
std::unique_ptr<Backend> make_cuda_naive_backend() { return std::make_unique<CudaBackend>(kNaive); }
std::unique_ptr<Backend> make_cuda_tiled_backend() { return std::make_unique<CudaBackend>(kTiled); }
std::unique_ptr<Backend> make_cuda_bf16_backend() { return std::make_unique<CudaBackend>(kBf16); }

}  // namespace aigc
