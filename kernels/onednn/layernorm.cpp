// Layernorm as oneDNN's layer_normalization_forward primitive, created once per shape.
#include <omp.h>

#include "core/backend.hpp"
#include "kernels/onednn/backend.hpp"
#include "kernels/onednn/engine.hpp"

namespace aigc::onednn {
namespace {

class OnednnLayernorm final : public LayernormKernel {
 public:
  OnednnLayernorm(const LayernormShape& s, int threads)
      : LayernormKernel(s),
        threads_(threads),
        data_md_({s.rows, s.dim}, dt::f32, tag::ab),
        param_md_({s.dim}, dt::f32, tag::a) {
    omp_set_num_threads(threads_);  // oneDNN's OpenMP runtime splits work by this at creation
    const auto flags = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;
    primitive_ =
        dnnl::layer_normalization_forward(dnnl::layer_normalization_forward::primitive_desc(
            dnnl::layer_normalization_forward::desc(dnnl::prop_kind::forward_inference, data_md_,
                                                    s.eps, flags),
            cpu_engine()));
  }

  void compute(const Buffer& x, const Buffer& gamma, const Buffer& beta, Buffer& y) override {
    omp_set_num_threads(threads_);
    dnnl::engine& engine = cpu_engine();
    primitive_.execute(cpu_stream(),
                       {{DNNL_ARG_SRC, dnnl::memory(data_md_, engine, x.data())},
                        {DNNL_ARG_SCALE, dnnl::memory(param_md_, engine, gamma.data())},
                        {DNNL_ARG_SHIFT, dnnl::memory(param_md_, engine, beta.data())},
                        {DNNL_ARG_DST, dnnl::memory(data_md_, engine, y.data())}});
    cpu_stream().wait();
  }

 private:
  int threads_;
  dnnl::memory::desc data_md_, param_md_;
  dnnl::layer_normalization_forward primitive_;
};

}  // namespace

AIGC_REGISTER_KERNEL(kernels(), LayernormShape, [](Backend& b, const LayernormShape& s) {
  return std::unique_ptr<LayernormKernel>(std::make_unique<OnednnLayernorm>(s, b.threads()));
});

}  // namespace aigc::onednn
