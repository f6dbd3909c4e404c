#include "core/kernel_table.hpp"

#include <stdexcept>

#include <fmt/format.h>

namespace aigc {

void KernelTable::put(Op op, ErasedFactory f) {
  ErasedFactory& slot = factories_[static_cast<std::size_t>(op)];
  if (slot) {
    throw std::logic_error(
        fmt::format("kernel table '{}': a second kernel for {}", name_, op_name(op)));
  }
  slot = std::move(f);
}

const KernelTable::ErasedFactory* KernelTable::find(Op op) const {
  const ErasedFactory& own = factories_[static_cast<std::size_t>(op)];
  if (own) return &own;
  return base_ != nullptr ? base_->find(op) : nullptr;
}

std::vector<Op> KernelTable::ops() const {
  std::vector<Op> out;
  for (const Op op : kAllOps) {
    if (has(op)) out.push_back(op);
  }
  return out;
}

}  // namespace aigc
