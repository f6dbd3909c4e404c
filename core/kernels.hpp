#pragma once
// The op kernels. A kernel is built once per shape ("prepared") and run many times, so set-up
// such as oneDNN primitive creation stays out of the timed region. The base class keeps the
// shape and checks every buffer against it (core/buffer_checks) before it calls the backend's
// compute(): one place, every backend, CPU and GPU alike, so a backend writes only the
// arithmetic. On a CPU backend the output is complete when run() returns; a GPU backend
// enqueues the work (Backend::synchronize() waits for it).
#include <memory>
#include <utility>

#include "core/buffer.hpp"
#include "core/buffer_checks.hpp"
#include "core/op_shapes.hpp"

namespace aigc {

// One overload per shape: what run() checks before compute().
inline void require_buffers(const MatmulShape& s, const Buffer& a, const Buffer& b,
                            const Buffer* bias, const Buffer& c) {
  require_matmul_buffers(s, a, b, bias, c);
}
inline void require_buffers(const AttentionShape& s, const Buffer& q, const Buffer& k,
                            const Buffer& v, const Buffer& o) {
  require_attention_buffers(s, q, k, v, o);
}
inline void require_buffers(const LayernormShape& s, const Buffer& x, const Buffer& gamma,
                            const Buffer& beta, const Buffer& y) {
  require_layernorm_buffers(s, x, gamma, beta, y);
}
inline void require_buffers(const RmsnormShape& s, const Buffer& x, const Buffer& gamma,
                            const Buffer& y) {
  require_rmsnorm_buffers(s, x, gamma, y);
}
inline void require_buffers(const ElementwiseShape& s, const Buffer& a, const Buffer* b,
                            const Buffer& y) {
  require_elementwise_buffers(s, a, b, y);
}

inline void require_buffers(const RopeShape& s, Buffer& x) { require_rope_buffers(s, x); }

template <typename ShapeT, typename... Args>
class OpKernel {
 public:
  using Shape = ShapeT;
  explicit OpKernel(const Shape& shape) : shape_(shape) {}
  virtual ~OpKernel() = default;
  OpKernel(const OpKernel&) = delete;
  OpKernel& operator=(const OpKernel&) = delete;

  void run(Args... args) {
    require_buffers(shape_, args...);
    compute(args...);
  }
  const Shape& shape() const { return shape_; }

 protected:
  virtual void compute(Args... args) = 0;

 private:
  Shape shape_;
};

// C = A * B (+ bias): run(a, b, bias or null, c).
using MatmulKernel = OpKernel<MatmulShape, const Buffer&, const Buffer&, const Buffer*, Buffer&>;
// O = attention(Q, K, V): run(q, k, v, o).
using AttentionKernel =
    OpKernel<AttentionShape, const Buffer&, const Buffer&, const Buffer&, Buffer&>;
// run(x, gamma, beta, y).
using LayernormKernel =
    OpKernel<LayernormShape, const Buffer&, const Buffer&, const Buffer&, Buffer&>;
// run(x, gamma, y).
using RmsnormKernel = OpKernel<RmsnormShape, const Buffer&, const Buffer&, Buffer&>;
// run(a, b or null for a unary op, y); y may be the same buffer as a.
using ElementwiseKernel = OpKernel<ElementwiseShape, const Buffer&, const Buffer*, Buffer&>;
// run(x), in place.
using RopeKernel = OpKernel<RopeShape, Buffer&>;

namespace detail {

template <typename Fn, typename Shape, typename... Args>
class FunctionKernel final : public OpKernel<Shape, Args...> {
 public:
  FunctionKernel(const Shape& shape, Fn fn) : OpKernel<Shape, Args...>(shape), fn_(std::move(fn)) {}

 private:
  void compute(Args... args) override { fn_(this->shape(), args...); }
  Fn fn_;
};

template <typename Fn, typename Shape, typename... Args>
std::unique_ptr<OpKernel<Shape, Args...>> make_function_kernel(const Shape& shape, Fn fn,
                                                               OpKernel<Shape, Args...>*) {
  return std::make_unique<FunctionKernel<Fn, Shape, Args...>>(shape, std::move(fn));
}

}  // namespace detail

// A kernel whose compute() is `fn(shape, args...)`: what a backend writes when the op needs
// no prepared state, e.g.
//   return kernel_from_function<RmsnormKernel>(shape, [](const RmsnormShape& s,
//       const Buffer& x, const Buffer& gamma, Buffer& y) { ... });
template <typename Kernel, typename Fn>
std::unique_ptr<Kernel> kernel_from_function(const typename Kernel::Shape& shape, Fn fn) {
  return detail::make_function_kernel(shape, std::move(fn), static_cast<Kernel*>(nullptr));
}

}  // namespace aigc
