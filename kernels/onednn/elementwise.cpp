// GELU and the residual add as oneDNN primitives (eltwise gelu_tanh, binary add), the gated
// MLPs' products as an eltwise (swish, gelu_tanh) then a binary mul; created once per shape.
#include <omp.h>

#include "core/backend.hpp"
#include "kernels/onednn/backend.hpp"
#include "kernels/onednn/engine.hpp"

namespace aigc::onednn {
namespace {

class OnednnElementwise final : public ElementwiseKernel {
 public:
  OnednnElementwise(const ElementwiseShape& s, int threads)
      : ElementwiseKernel(s), op_(s.op), threads_(threads), md_({s.n}, dt::f32, tag::a) {
    omp_set_num_threads(threads_);
    if (op_ == ElementwiseOp::add) {
      primitive_ = dnnl::binary(dnnl::binary::primitive_desc(
          dnnl::binary::desc(dnnl::algorithm::binary_add, md_, md_, md_), cpu_engine()));
    } else if (gated()) {
      // swish(a) with alpha 1 is silu (or gelu_tanh(a)), then the product with b: two
      // primitives (the product as the eltwise's binary post-op left NaN outputs with the
      // oneDNN 2.6 here).
      const auto algorithm = op_ == ElementwiseOp::silu_mul ? dnnl::algorithm::eltwise_swish
                                                            : dnnl::algorithm::eltwise_gelu_tanh;
      primitive_ = dnnl::eltwise_forward(dnnl::eltwise_forward::primitive_desc(
          dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_inference, algorithm, md_,
                                      op_ == ElementwiseOp::silu_mul ? 1.0f : 0.0f, 0.0f),
          cpu_engine()));
      multiply_ = dnnl::binary(dnnl::binary::primitive_desc(
          dnnl::binary::desc(dnnl::algorithm::binary_mul, md_, md_, md_), cpu_engine()));
    } else {
      primitive_ = dnnl::eltwise_forward(dnnl::eltwise_forward::primitive_desc(
          dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_inference,
                                      dnnl::algorithm::eltwise_gelu_tanh, md_, 0.0f, 0.0f),
          cpu_engine()));
    }
  }

  void compute(const Buffer& a, const Buffer* b, Buffer& y) override {
    omp_set_num_threads(threads_);
    dnnl::engine& engine = cpu_engine();
    if (op_ == ElementwiseOp::add) {
      primitive_.execute(cpu_stream(), {{DNNL_ARG_SRC_0, dnnl::memory(md_, engine, a.data())},
                                        {DNNL_ARG_SRC_1, dnnl::memory(md_, engine, b->data())},
                                        {DNNL_ARG_DST, dnnl::memory(md_, engine, y.data())}});
    } else if (gated()) {
      const dnnl::memory dst(md_, engine, y.data());
      primitive_.execute(
          cpu_stream(), {{DNNL_ARG_SRC, dnnl::memory(md_, engine, a.data())}, {DNNL_ARG_DST, dst}});
      multiply_.execute(cpu_stream(), {{DNNL_ARG_SRC_0, dst},
                                       {DNNL_ARG_SRC_1, dnnl::memory(md_, engine, b->data())},
                                       {DNNL_ARG_DST, dst}});
    } else {
      primitive_.execute(cpu_stream(), {{DNNL_ARG_SRC, dnnl::memory(md_, engine, a.data())},
                                        {DNNL_ARG_DST, dnnl::memory(md_, engine, y.data())}});
    }
    cpu_stream().wait();
  }

 private:
  bool gated() const {
    return op_ == ElementwiseOp::silu_mul || op_ == ElementwiseOp::gelu_tanh_mul;
  }

  ElementwiseOp op_;
  int threads_;
  dnnl::memory::desc md_;
  dnnl::primitive primitive_;
  dnnl::primitive multiply_;  // a gated op's product
};

}  // namespace

AIGC_REGISTER_KERNEL(kernels(), ElementwiseShape, [](Backend& b, const ElementwiseShape& s) {
  return std::unique_ptr<ElementwiseKernel>(std::make_unique<OnednnElementwise>(s, b.threads()));
});

}  // namespace aigc::onednn
