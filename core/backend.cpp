#include "core/backend.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "core/buffer_checks.hpp"

namespace aigc {

std::vector<Op> BackendDescriptor::ops() const {
  const KernelTable* table = kernels();
  return table != nullptr ? table->ops() : std::vector<Op>{};
}

bool BackendDescriptor::supports(Op op, const std::string& dtype) const {
  const KernelTable* table = kernels();
  return table != nullptr && table->has(op) &&
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

void Backend::require_offered(Op op) const {
  if (!descriptor_.supports(op, dtype())) throw UnsupportedOp(descriptor_.lacks(op, dtype()));
}

void Backend::require_takes(WeightFormat f) const {
  if (!descriptor_.takes(f)) throw UnsupportedOp(descriptor_.lacks(f));
}

void Backend::fail_no_kernel(Op op) const {
  throw std::logic_error(
      fmt::format("backend '{}' lists {} but builds no kernel for it", name(), op_name(op)));
}

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
