// Attention composed from oneDNN primitives, built once and reused, per (batch, head):
//   scores = (Q . K^T) * 1/sqrt(D) + mask   a matmul with the scale and the mask as attributes
//   P      = softmax(scores) along keys      in place
//   O      = P . V                           a matmul
// Per head rather than batched: oneDNN 2.6 runs a batched matmul whose mask is broadcast
// over the batch on its reference path (hundreds of times slower), and a full-batch mask
// would double the traffic; a 2-D mask of the head's shape keeps the brgemm kernels.
// The S x L score matrix of one head is materialized.
#include "core/backend.hpp"
#include "kernels/onednn/backend.hpp"

#include <omp.h>

#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "core/errors.hpp"
#include "core/machine.hpp"
#include "kernels/onednn/engine.hpp"

namespace aigc::onednn {
namespace {

using dims = dnnl::memory::dims;

class OnednnAttention final : public AttentionKernel {
 public:
  OnednnAttention(const AttentionShape& s, int threads) : AttentionKernel(s), threads_(threads) {
    const std::int64_t S = s.S, L = s.L, D = s.D;
    require_memory(2 * 4.0 * S * L, "the oneDNN composition's score matrix and mask [S,L]");
    omp_set_num_threads(threads_);  // oneDNN's OpenMP runtime splits work by this at creation
    dnnl::engine& engine = cpu_engine();

    q_md_ = dnnl::memory::desc({S, D}, dt::f32, tag::ab);
    // K read as K^T [D, L] through strides, straight from the cache.
    kt_md_ = dnnl::memory::desc({D, L}, dt::f32, dims{1, D});
    v_md_ = dnnl::memory::desc({L, D}, dt::f32, tag::ab);
    const dnnl::memory::desc scores_md({S, L}, dt::f32, tag::ab);

    // The causal mask: -inf where a key is in the query's future (or before its window).
    mask_ = dnnl::memory(scores_md, engine);
    float* mask = static_cast<float*>(mask_.get_data_handle());
    for (std::int64_t i = 0; i < S; ++i) {
      for (std::int64_t j = 0; j < L; ++j) {
        const std::int64_t pos = L - S + i;  // the query's position: keys up to it (a window's)
        const bool hidden = j > pos || j < shape().first_key(pos);
        mask[i * L + j] = hidden ? -std::numeric_limits<float>::infinity() : 0.0f;
      }
    }
    scores_ = dnnl::memory(scores_md, engine);

    dnnl::primitive_attr qk_attr;
    qk_attr.set_output_scales(0, {1.0f / std::sqrt(static_cast<float>(D))});
    dnnl::post_ops ops;
    ops.append_binary(dnnl::algorithm::binary_add, scores_md);
    qk_attr.set_post_ops(ops);
    qk_ = dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(q_md_, kt_md_, scores_md),
                                                    qk_attr, engine));
    softmax_ = dnnl::softmax_forward(dnnl::softmax_forward::primitive_desc(
        dnnl::softmax_forward::desc(dnnl::prop_kind::forward_inference, scores_md, 1), engine));
    pv_ = dnnl::matmul(
        dnnl::matmul::primitive_desc(dnnl::matmul::desc(scores_md, v_md_, q_md_), engine));
  }

  void compute(const Buffer& q, const Buffer& k, const Buffer& v, Buffer& o) override {
    omp_set_num_threads(threads_);
    dnnl::engine& engine = cpu_engine();
    dnnl::stream& stream = cpu_stream();
    const std::int64_t q_stride = shape().S * shape().D, kv_stride = shape().capacity() * shape().D;
    for (std::int64_t bh = 0; bh < shape().B * shape().H; ++bh) {
      qk_.execute(
          stream,
          {{DNNL_ARG_SRC, dnnl::memory(q_md_, engine, q.as<float>() + bh * q_stride)},
           {DNNL_ARG_WEIGHTS,
            dnnl::memory(kt_md_, engine, k.as<float>() + shape().kv_head_of(bh) * kv_stride)},
           {DNNL_ARG_DST, scores_},
           {DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, mask_}});
      softmax_.execute(stream, {{DNNL_ARG_SRC, scores_}, {DNNL_ARG_DST, scores_}});
      pv_.execute(
          stream,
          {{DNNL_ARG_SRC, scores_},
           {DNNL_ARG_WEIGHTS,
            dnnl::memory(v_md_, engine, v.as<float>() + shape().kv_head_of(bh) * kv_stride)},
           {DNNL_ARG_DST, dnnl::memory(q_md_, engine, o.as<float>() + bh * q_stride)}});
    }
    stream.wait();
  }

 private:
  int threads_;
  dnnl::memory::desc q_md_, kt_md_, v_md_;
  dnnl::memory mask_, scores_;
  dnnl::matmul qk_, pv_;
  dnnl::softmax_forward softmax_;
};

}  // namespace

std::unique_ptr<AttentionKernel> make_attention_kernel(const AttentionShape& shape, int threads) {
  // Its matmuls read fp32 K and V: oneDNN's f16 matmul needs AVX512-FP16, and a q8_0 cache's
  // per-block scales are no layout it takes.
  if (shape.kv_format != WeightFormat::f32) {
    throw UnsupportedOp(
        fmt::format("onednn has no KV cache in {} (its attention composes fp32 "
                    "matmuls)",
                    weight_format_name(shape.kv_format)));
  }
  return std::make_unique<OnednnAttention>(shape, threads);
}

AIGC_REGISTER_KERNEL(kernels(), AttentionShape, [](Backend& b, const AttentionShape& s) {
  return make_attention_kernel(s, b.threads());
});

}  // namespace aigc::onednn
