#pragma once
// The op table: every op a backend may offer, one line each in AIGC_FOR_EACH_OP, with its
// header core/ops/<op>.hpp (the shape, the kernel's run() arguments, the buffer and shape
// checks, the FLOPs and bytes). The enum, the names, kAllOps and the shape -> op traits that
// Backend::make_kernel and the kernel tables use are generated from the list.
#include <cstddef>
#include <string_view>

#include "core/ops/attention.hpp"
#include "core/ops/elementwise.hpp"
#include "core/ops/layernorm.hpp"
#include "core/ops/matmul.hpp"
#include "core/ops/rmsnorm.hpp"
#include "core/ops/rope.hpp"

namespace aigc {

// X(name, Shape, Kernel), in listing order.
#define AIGC_FOR_EACH_OP(X)                           \
  X(matmul, MatmulShape, MatmulKernel)                \
  X(attention, AttentionShape, AttentionKernel)       \
  X(layernorm, LayernormShape, LayernormKernel)       \
  X(rmsnorm, RmsnormShape, RmsnormKernel)             \
  X(elementwise, ElementwiseShape, ElementwiseKernel) \
  X(rope, RopeShape, RopeKernel)

#define AIGC_OP_ENUMERATOR(name, Shape, Kernel) name,
enum class Op { AIGC_FOR_EACH_OP(AIGC_OP_ENUMERATOR) };
#undef AIGC_OP_ENUMERATOR

#define AIGC_OP_VALUE(name, Shape, Kernel) Op::name,
inline constexpr Op kAllOps[] = {AIGC_FOR_EACH_OP(AIGC_OP_VALUE)};
#undef AIGC_OP_VALUE
inline constexpr std::size_t kOpCount = std::size(kAllOps);

constexpr std::string_view op_name_view(Op op) {
#define AIGC_OP_NAME(name, Shape, Kernel) \
  if (op == Op::name) return #name;
  AIGC_FOR_EACH_OP(AIGC_OP_NAME)
#undef AIGC_OP_NAME
  return "unknown";
}
inline const char* op_name(Op op) { return op_name_view(op).data(); }

// The op a shape belongs to, and its kernel type: OpTraits<RopeShape>::op == Op::rope.
template <typename Shape>
struct OpTraits;
#define AIGC_OP_TRAITS(name, Shape, Kernel_) \
  template <>                                \
  struct OpTraits<Shape> {                   \
    static constexpr Op op = Op::name;       \
    using Kernel = Kernel_;                  \
  };
AIGC_FOR_EACH_OP(AIGC_OP_TRAITS)
#undef AIGC_OP_TRAITS

template <typename Shape>
using KernelOf = typename OpTraits<Shape>::Kernel;
template <typename Shape>
concept KernelShape = requires {
  OpTraits<Shape>::op;
};

}  // namespace aigc
