#include <omp.h>

#include <algorithm>

#include "kernels/openmp/attention.hpp"
#include "kernels/openmp/backend.hpp"
#include "kernels/simd/attention.hpp"

namespace aigc::openmp {
namespace {

// The fused simd kernel, one (batch, head, query block) per task. Causal blocks differ in
// cost (the last block of a head sees every key, the first a few), so the schedule is dynamic.
class OpenmpAttention final : public AttentionKernel {
 public:
  OpenmpAttention(const AttentionShape& shape, int threads)
      : AttentionKernel(shape), threads_(threads) {}
  void compute(const Buffer& q, const Buffer& k, const Buffer& v, Buffer& o) override {
    if (shape().S == 1) return decode(q, k, v, o);
    const std::int64_t blocks =
        (shape().S + simd::kAttentionQueryBlock - 1) / simd::kAttentionQueryBlock;
    const std::int64_t tasks = shape().B * shape().H * blocks;
    const float* pq = q.as<const float>();
    const auto* pk = k.as<const std::uint8_t>();
    const auto* pv = v.as<const std::uint8_t>();
    float* po = o.as<float>();
#pragma omp parallel for num_threads(threads_) schedule(dynamic, 1)
    for (std::int64_t t = 0; t < tasks; ++t) {
      // Largest blocks first: the costly last query blocks start early, the cheap fill in.
      const std::int64_t bh = t % (shape().B * shape().H);
      const std::int64_t block = blocks - 1 - t / (shape().B * shape().H);
      const std::int64_t i0 = block * simd::kAttentionQueryBlock;
      simd::attention_fused_block(shape(), pq, pk, pv, po, bh, i0,
                                  std::min(shape().S, i0 + simd::kAttentionQueryBlock));
    }
  }

 private:
  // A decode step: one task per (batch, KV head), its query heads together (the cache read
  // once for the group); where that leaves threads idle (Gemma 3: one KV head), each group
  // splits into as many parts as it takes to give every thread one.
  void decode(const Buffer& q, const Buffer& k, const Buffer& v, Buffer& o) {
    const std::int64_t Hkv = shape().kv_head_count(), groups = shape().B * Hkv, G = shape().group();
    const std::int64_t parts = std::min<std::int64_t>(G, (threads_ + groups - 1) / groups);
    const float* pq = q.as<const float>();
    const auto* pk = k.as<const std::uint8_t>();
    const auto* pv = v.as<const std::uint8_t>();
    float* po = o.as<float>();
#pragma omp parallel for num_threads(threads_) schedule(dynamic, 1)
    for (std::int64_t t = 0; t < groups * parts; ++t) {
      const std::int64_t group = t / parts, part = t % parts;
      simd::attention_decode_group(shape(), pq, pk, pv, po, group / Hkv, group % Hkv,
                                   part * G / parts, (part + 1) * G / parts);
    }
  }

  int threads_;
};

}  // namespace

std::unique_ptr<AttentionKernel> make_attention_kernel(const AttentionShape& shape, int threads) {
  return std::make_unique<OpenmpAttention>(shape, threads);
}

AIGC_REGISTER_KERNEL(kernels(), AttentionShape, [](Backend& b, const AttentionShape& s) {
  return make_attention_kernel(s, b.threads());
});

void decode_batch_attention(const HeadsShape& shape, std::span<const std::int64_t> positions,
                            const Buffer& qkv, std::span<Buffer* const> k_caches,
                            std::span<Buffer* const> v_caches, Buffer& y, int threads) {
  const std::int64_t Hkv = shape.kv_head_count();
  const auto tasks = static_cast<std::int64_t>(positions.size()) * Hkv;
  const float* pqkv = qkv.as<const float>();
  float* py = y.as<float>();
  // Sequences at different positions cost different times: handed out one at a time.
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
  for (std::int64_t t = 0; t < tasks; ++t) {
    const std::int64_t r = t / Hkv, g = t % Hkv;
    const auto ri = static_cast<std::size_t>(r);
    simd::decode_batch_attention_task(
        shape, positions[ri], pqkv + r * shape.qkv_row(), k_caches[ri]->as<std::uint8_t>(),
        v_caches[ri]->as<std::uint8_t>(), py + r * shape.heads * shape.head_dim, g);
  }
}

}  // namespace aigc::openmp
