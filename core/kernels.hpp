#pragma once
// The op kernels. A kernel is built once per shape ("prepared") and run many times, so set-up
// such as oneDNN primitive creation stays out of the timed region. The base class keeps the
// shape and checks every buffer against it (each op's require_buffers, core/ops/<op>.hpp)
// before it calls the backend's compute(): one place, every backend, CPU and GPU alike, so a
// backend writes only the arithmetic. On a CPU backend the output is complete when run()
// returns; a GPU backend enqueues the work (Backend::synchronize() waits for it).
#include <memory>
#include <utility>

#include "core/buffer.hpp"
#include "core/buffer_checks.hpp"

namespace aigc {

// What an op computes and moves, counted from its shape alone (core/ops/<op>.cpp): the
// arithmetic of one run, and its minimum traffic (each input read once, each output written
// once). A workload adds what its case moves besides (a copy that restores an in-place input).
struct OpWork {
  double flops = 0, bytes = 0;
};

// Shapes no kernel can take (std::invalid_argument); Backend::make_kernel asks before any
// backend. An op with such limits declares an overload beside its shape.
template <typename Shape>
void require_valid_shape(const Shape&) {}

// What every kernel is, so that a backend's kernel table (core/kernel_table.hpp) can hold the
// factories of every op in one array.
class KernelBase {
 public:
  virtual ~KernelBase() = default;
};

template <typename ShapeT, typename... Args>
class OpKernel : public KernelBase {
 public:
  using Shape = ShapeT;
  explicit OpKernel(const Shape& shape) : shape_(shape) {}
  OpKernel(const OpKernel&) = delete;
  OpKernel& operator=(const OpKernel&) = delete;

  void run(Args... args) {
    require_buffers(shape_, args...);  // the op's overload (core/ops/<op>.hpp)
    compute(args...);
  }
  const Shape& shape() const { return shape_; }

 protected:
  virtual void compute(Args... args) = 0;

 private:
  Shape shape_;
};

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
