// A dnnl::matmul primitive built once for the shape and thread count, then reused.
#include "core/backend.hpp"
#include "kernels/onednn/backend.hpp"

#include <omp.h>

#include "kernels/onednn/engine.hpp"

namespace aigc::onednn {
namespace {

// B's element type in oneDNN: f32, or bf16 (the only stored format oneDNN 2.6 multiplies).
dt weight_type(const MatmulShape& s) {
  return s.b_format == WeightFormat::bf16 ? dt::bf16 : dt::f32;
}

class OnednnMatmul final : public MatmulKernel {
 public:
  OnednnMatmul(const MatmulShape& s, int threads)
      : MatmulKernel(s),
        threads_(threads),
        a_md_({s.M, s.K}, dt::f32, tag::ab),
        // With bf16 weights, A is reordered to bf16 first (oneDNN 2.6 takes bf16 x bf16 only).
        a_bf16_md_(s.b_format == WeightFormat::bf16
                       ? dnnl::memory::desc({s.M, s.K}, dt::bf16, tag::ab)
                       : dnnl::memory::desc()),
        // B^T [N, K] is B [K, N] with strides (1, K): oneDNN reads it in place.
        b_md_(s.transpose_b
                  ? dnnl::memory::desc({s.K, s.N}, weight_type(s), dnnl::memory::dims{1, s.K})
                  : dnnl::memory::desc({s.K, s.N}, weight_type(s), tag::ab)),
        bias_md_(s.bias ? dnnl::memory::desc({1, s.N}, dt::f32, tag::ab) : dnnl::memory::desc()),
        c_md_({s.M, s.N}, dt::f32, tag::ab) {
    // oneDNN's OpenMP runtime sizes its work split from the thread count it sees when
    // the primitive is created, so the count is set before creation as well as before each run.
    omp_set_num_threads(threads_);
    const bool bf16 = s.b_format == WeightFormat::bf16;
    const dnnl::memory::desc& src = bf16 ? a_bf16_md_ : a_md_;
    const auto desc = s.bias ? dnnl::matmul::desc(src, b_md_, bias_md_, c_md_)
                             : dnnl::matmul::desc(src, b_md_, c_md_);
    primitive_ = dnnl::matmul(dnnl::matmul::primitive_desc(desc, cpu_engine()));
    if (bf16) {
      to_bf16_ = dnnl::reorder(
          dnnl::reorder::primitive_desc(cpu_engine(), a_md_, cpu_engine(), a_bf16_md_));
      a_bf16_ = dnnl::memory(a_bf16_md_, cpu_engine());
    }
  }

  void compute(const Buffer& a, const Buffer& b, const Buffer* bias, Buffer& c) override {
    omp_set_num_threads(threads_);
    dnnl::engine& engine = cpu_engine();
    dnnl::memory src(a_md_, engine, a.data());
    if (a_bf16_) {
      to_bf16_.execute(cpu_stream(), src, a_bf16_);
      src = a_bf16_;
    }
    std::unordered_map<int, dnnl::memory> args{
        {DNNL_ARG_SRC, src},
        {DNNL_ARG_WEIGHTS, dnnl::memory(b_md_, engine, b.data())},
        {DNNL_ARG_DST, dnnl::memory(c_md_, engine, c.data())}};
    if (bias != nullptr) args.emplace(DNNL_ARG_BIAS, dnnl::memory(bias_md_, engine, bias->data()));
    primitive_.execute(cpu_stream(), args);
    cpu_stream().wait();
  }

 private:
  int threads_;
  dnnl::memory::desc a_md_, a_bf16_md_, b_md_, bias_md_, c_md_;
  dnnl::matmul primitive_;
  dnnl::reorder to_bf16_;
  dnnl::memory a_bf16_;  // A in bf16, with bf16 weights
};

}  // namespace

std::unique_ptr<MatmulKernel> make_matmul_kernel(const MatmulShape& shape, int threads) {
  return std::make_unique<OnednnMatmul>(shape, threads);
}

AIGC_REGISTER_KERNEL(kernels(), MatmulShape, [](Backend& b, const MatmulShape& s) {
  return make_matmul_kernel(s, b.threads());
});

}  // namespace aigc::onednn
