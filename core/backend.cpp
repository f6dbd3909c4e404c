#include "core/backend.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "core/buffer_checks.hpp"

namespace aigc {

const char* op_name(Op op) {
  switch (op) {
    case Op::matmul:
      return "matmul";
    case Op::attention:
      return "attention";
    case Op::layernorm:
      return "layernorm";
    case Op::rmsnorm:
      return "rmsnorm";
    case Op::elementwise:
      return "elementwise";
    case Op::rope:
      return "rope";
  }
  return "unknown";
}

bool BackendDescriptor::supports(Op op, const std::string& dtype) const {
  return std::find(ops.begin(), ops.end(), op) != ops.end() &&
         std::find(dtypes.begin(), dtypes.end(), dtype) != dtypes.end();
}

std::string BackendDescriptor::lacks(Op op, const std::string& dtype) const {
  return fmt::format("{} has no {} for {}", name, op_name(op), dtype);
}

bool BackendDescriptor::takes(WeightFormat f) const {
  return std::find(weight_formats.begin(), weight_formats.end(), f) != weight_formats.end();
}

OperandRounding BackendDescriptor::operand_rounding_for(WeightFormat f) const {
  const auto has = [f](const std::vector<WeightFormat>& v) {
    return std::find(v.begin(), v.end(), f) != v.end();
  };
  return {.relative = has(bf16_activations) ? std::max(operand_rounding, 0x1p-8) : operand_rounding,
          .activations = has(int8_activations)   ? ActivationRounding::int8_blocks
                         : has(bf16_activations) ? ActivationRounding::bf16
                                                 : ActivationRounding::none};
}

std::string BackendDescriptor::lacks(WeightFormat f) const {
  return fmt::format("{} has no matmul for {} weights", name, weight_format_name(f));
}

Buffer Backend::upload_weights(std::span<const std::uint8_t> stored) {
  return upload_new(stored_as_floats(stored));
}

void Backend::set_threads(int threads) {
  if (threads < 1 || threads > max_threads()) {
    throw InvalidArgument("threads",
                          fmt::format("{} is out of range for backend '{}' (valid: 1..{})", threads,
                                      name(), max_threads()));
  }
  threads_ = threads;
}

std::unique_ptr<RecordedOps> Backend::record(const std::function<void()>&) { return nullptr; }

namespace {

// The descriptor is asked first; a factory that returns null for an op the descriptor lists
// is a backend bug, said as such.
template <typename Kernel>
std::unique_ptr<Kernel> checked(const BackendDescriptor& d, Op op, std::unique_ptr<Kernel> k) {
  if (!k) {
    throw std::logic_error(
        fmt::format("backend '{}' lists {} but builds no kernel for it", d.name, op_name(op)));
  }
  return k;
}

}  // namespace

std::unique_ptr<MatmulKernel> Backend::make_matmul(const MatmulShape& shape) {
  if (!descriptor_.supports(Op::matmul, dtype()))
    throw UnsupportedOp(descriptor_.lacks(Op::matmul, dtype()));
  if (!descriptor_.takes(shape.b_format)) throw UnsupportedOp(descriptor_.lacks(shape.b_format));
  require_valid_shape(shape);
  return checked(descriptor_, Op::matmul, new_matmul(shape));
}

#define AIGC_MAKE_OP(method, factory, op, Kernel, Shape)                                         \
  std::unique_ptr<Kernel> Backend::method(const Shape& shape) {                                  \
    if (!descriptor_.supports(op, dtype())) throw UnsupportedOp(descriptor_.lacks(op, dtype())); \
    require_valid_shape(shape);                                                                  \
    return checked(descriptor_, op, factory(shape));                                             \
  }
AIGC_MAKE_OP(make_attention, new_attention, Op::attention, AttentionKernel, AttentionShape)
AIGC_MAKE_OP(make_layernorm, new_layernorm, Op::layernorm, LayernormKernel, LayernormShape)
AIGC_MAKE_OP(make_rmsnorm, new_rmsnorm, Op::rmsnorm, RmsnormKernel, RmsnormShape)
AIGC_MAKE_OP(make_elementwise, new_elementwise, Op::elementwise, ElementwiseKernel,
             ElementwiseShape)
AIGC_MAKE_OP(make_rope, new_rope, Op::rope, RopeKernel, RopeShape)
#undef AIGC_MAKE_OP

void Backend::attend_decode_batch(const HeadsShape& shape, std::span<const std::int64_t> positions,
                                  const Buffer& qkv, std::span<Buffer* const> k_caches,
                                  std::span<Buffer* const> v_caches, Buffer& y) {
  if (!descriptor_.decode_batch_attention) {
    throw UnsupportedOp(fmt::format("{} has no batched decode attention", descriptor_.name));
  }
  require_decode_batch_buffers(shape, positions, qkv, k_caches, v_caches, y);
  run_decode_batch_attention(shape, positions, qkv, k_caches, v_caches, y);
}

}  // namespace aigc
