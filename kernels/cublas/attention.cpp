// Attention composed from the vendor library: per (batch, head), scores = Q K^T and
// O = P V as strided batched SGEMMs, with our causal softmax kernel between them. It
// materializes the B*H*S*L scores (and computes the masked half of them), which is what
// the fused kernel in kernels/cuda saves.
#include <cmath>

#include <fmt/format.h>

#include "kernels/cublas/backend.hpp"
#include "kernels/cuda/launch.hpp"

namespace aigc::cublas {
namespace {

// The score matrix's bytes, after checking the sizes cuBLAS takes as int and the softmax's
// grid, so that nothing is allocated for a shape refused later.
std::size_t score_bytes(const AttentionShape& s) {
  to_int(s.B * s.H, "B*H");
  to_int(s.S, "S");
  to_int(s.L, "L");
  to_int(s.D, "D");
  to_int(s.B * s.H * s.S, "B*H*S (softmax rows)");
  return static_cast<std::size_t>(s.B * s.H * s.S * s.L) * sizeof(float);
}

class BatchedAttention final : public AttentionKernel {
 public:
  BatchedAttention(cuda::GpuBackend& backend, Handles& handles, const AttentionShape& s)
      : AttentionKernel(s),
        backend_(backend),
        handles_(handles),
        scores_(cuda::allocate_workspace(score_bytes(s), "the cuBLAS attention's score matrix")) {}

  // Grouped-query attention (Hkv < H) is G = H / Hkv batched calls of B * Hkv heads each:
  // the g-th query head of every group, batch stride G * S * D, against its KV head, stride
  // capacity * D. With G = 1 it is one call over all B * H heads, as before.
  void compute(const Buffer& q, const Buffer& k, const Buffer& v, Buffer& o) override {
    const std::int64_t BH = shape().B * shape().H, cap = shape().capacity(), G = shape().group();
    const int S = int(shape().S), L = int(shape().L), D = int(shape().D), batches = int(BH / G);
    const std::int64_t q_stride = G * shape().S * shape().D, s_stride = G * shape().S * shape().L;
    const float one = 1.0f, zero = 0.0f;
    float* scores = scores_.as<float>();
    // Head bh's scores at bh * S * L, as the softmax takes them.
    for (std::int64_t g = 0; g < G; ++g) {
      // Column-major scores^T [L,S] = K [L,D] (stored as [D,L], op T) x Q^T [D,S].
      AIGC_CUBLAS_CHECK(cublasSgemmStridedBatched(
          handles_.blas.get(), CUBLAS_OP_T, CUBLAS_OP_N, L, S, D, &one, k.as<const float>(), D,
          cap * D, q.as<const float>() + g * shape().S * shape().D, D, q_stride, &zero,
          scores + g * shape().S * shape().L, L, s_stride, batches));
    }
    cuda::launch_causal_softmax(scores, BH, shape().S, shape().L,
                                1.0f / std::sqrt(float(shape().D)), backend_.stream());
    for (std::int64_t g = 0; g < G; ++g) {
      // Column-major O^T [D,S] = V^T [D,L] x P^T [L,S]; only the first L cache rows are read.
      AIGC_CUBLAS_CHECK(cublasSgemmStridedBatched(
          handles_.blas.get(), CUBLAS_OP_N, CUBLAS_OP_N, D, S, L, &one, v.as<const float>(), D,
          cap * D, scores + g * shape().S * shape().L, L, s_stride, &zero,
          o.as<float>() + g * shape().S * shape().D, D, q_stride, batches));
    }
  }

 private:
  cuda::GpuBackend& backend_;
  Handles& handles_;
  Buffer scores_;
};

}  // namespace

AIGC_REGISTER_KERNEL(cuda::cublas_kernels(), AttentionShape,
                     [](Backend& b, const AttentionShape& s) {
                       cuda::refuse_cpu_only_attention(b, s);
                       auto& backend = dynamic_cast<CublasBackend&>(b);
                       return std::unique_ptr<AttentionKernel>(
                           std::make_unique<BatchedAttention>(backend, backend.handles(), s));
                     });

}  // namespace aigc::cublas
