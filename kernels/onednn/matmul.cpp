#include "kernels/onednn/matmul.hpp"

#include <omp.h>

#include "kernels/onednn/engine.hpp"

namespace aigc::onednn {
namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

class OnednnMatmul final : public MatmulKernel {
 public:
  OnednnMatmul(const MatmulShape& s, int threads)
      : MatmulKernel(s),
        threads_(threads),
        a_md_({s.M, s.K}, dt::f32, tag::ab),
        // B^T [N, K] is B [K, N] with strides (1, K): oneDNN reads it in place.
        b_md_(s.transpose_b ? dnnl::memory::desc({s.K, s.N}, dt::f32, dnnl::memory::dims{1, s.K})
                            : dnnl::memory::desc({s.K, s.N}, dt::f32, tag::ab)),
        bias_md_(s.bias ? dnnl::memory::desc({1, s.N}, dt::f32, tag::ab) : dnnl::memory::desc()),
        c_md_({s.M, s.N}, dt::f32, tag::ab) {
    // oneDNN's OpenMP runtime sizes its work split from the thread count it sees when
    // the primitive is created, so the count is set before creation as well as before each run.
    omp_set_num_threads(threads_);
    const auto desc = s.bias ? dnnl::matmul::desc(a_md_, b_md_, bias_md_, c_md_)
                             : dnnl::matmul::desc(a_md_, b_md_, c_md_);
    primitive_ = dnnl::matmul(dnnl::matmul::primitive_desc(desc, cpu_engine()));
  }

  void compute(const Buffer& a, const Buffer& b, const Buffer* bias, Buffer& c) override {
    omp_set_num_threads(threads_);
    dnnl::engine& engine = cpu_engine();
    std::unordered_map<int, dnnl::memory> args{
        {DNNL_ARG_SRC, dnnl::memory(a_md_, engine, a.data())},
        {DNNL_ARG_WEIGHTS, dnnl::memory(b_md_, engine, b.data())},
        {DNNL_ARG_DST, dnnl::memory(c_md_, engine, c.data())}};
    if (bias != nullptr) args.emplace(DNNL_ARG_BIAS, dnnl::memory(bias_md_, engine, bias->data()));
    primitive_.execute(cpu_stream(), args);
    cpu_stream().wait();
  }

 private:
  int threads_;
  dnnl::memory::desc a_md_, b_md_, bias_md_, c_md_;
  dnnl::matmul primitive_;
};

}  // namespace

std::unique_ptr<MatmulKernel> make_matmul_kernel(const MatmulShape& shape, int threads) {
  return std::make_unique<OnednnMatmul>(shape, threads);
}

}  // namespace aigc::onednn
