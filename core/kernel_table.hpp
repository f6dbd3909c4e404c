#pragma once
// A backend's kernels: one factory per op, added by the kernel files themselves
// (AIGC_REGISTER_KERNEL at the end of kernels/<backend>/<op>.cpp) while the program starts.
// The backend's op list is what its table holds, so there is no second list to keep in step
// with the kernels (BackendDescriptor::ops()).
//
// The registrations are static objects in files nothing else refers to, so the kernel
// libraries are linked whole (kernels/CMakeLists.txt's aigc_link_whole); a test checks that
// every backend's table holds what its folder defines.
#include <array>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/ops/ops.hpp"

namespace aigc {

class Backend;

class KernelTable {
 public:
  // `base`: a table whose kernels this one shares where it adds none of its own (the GPU
  // backends share the vector kernels, each adding its matmul and attention).
  explicit KernelTable(std::string name, const KernelTable* base = nullptr)
      : name_(std::move(name)), base_(base) {}
  KernelTable(const KernelTable&) = delete;
  KernelTable& operator=(const KernelTable&) = delete;

  template <KernelShape Shape>
  using Factory = std::function<std::unique_ptr<KernelOf<Shape>>(Backend&, const Shape&)>;

  // Adding an op twice is a bug in the kernel files (std::logic_error, at start-up).
  template <KernelShape Shape>
  void add(Factory<Shape> make) {
    put(OpTraits<Shape>::op, [make = std::move(make)](Backend& b, const void* shape) {
      return std::unique_ptr<KernelBase>(make(b, *static_cast<const Shape*>(shape)));
    });
  }

  bool has(Op op) const { return find(op) != nullptr; }
  // In kAllOps order, this table's and its base's.
  std::vector<Op> ops() const;
  const std::string& name() const { return name_; }

  // Null where the table has no kernel for the op (Backend::make_kernel asks has() first).
  template <KernelShape Shape>
  std::unique_ptr<KernelOf<Shape>> make(Backend& backend, const Shape& shape) const {
    const ErasedFactory* f = find(OpTraits<Shape>::op);
    if (f == nullptr) return nullptr;
    std::unique_ptr<KernelBase> k = (*f)(backend, &shape);
    return std::unique_ptr<KernelOf<Shape>>(static_cast<KernelOf<Shape>*>(k.release()));
  }

 private:
  using ErasedFactory = std::function<std::unique_ptr<KernelBase>(Backend&, const void*)>;
  void put(Op op, ErasedFactory f);
  const ErasedFactory* find(Op op) const;

  std::string name_;
  const KernelTable* base_;
  std::array<ErasedFactory, kOpCount> factories_{};
};

// At namespace scope in a kernel file: adds `factory` (callable as (Backend&, const Shape&),
// returning the op's kernel) to `table` while the program starts, e.g.
//   AIGC_REGISTER_KERNEL(scalar_kernels(), RopeShape, [](Backend&, const RopeShape& s) {...});
#define AIGC_REGISTER_KERNEL(table, Shape, ...)                                                   \
  AIGC_REGISTER_KERNEL_NAMED(AIGC_KERNEL_CONCAT(aigc_kernel_registered_, __LINE__), table, Shape, \
                             __VA_ARGS__)
#define AIGC_KERNEL_CONCAT(a, b) AIGC_KERNEL_CONCAT_(a, b)
#define AIGC_KERNEL_CONCAT_(a, b) a##b
#define AIGC_REGISTER_KERNEL_NAMED(var, table, Shape, ...) \
  [[maybe_unused]] static const bool var = [] {            \
    (table).add<Shape>(__VA_ARGS__);                       \
    return true;                                           \
  }()

}  // namespace aigc
