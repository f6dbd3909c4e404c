#include "core/host_memory.hpp"

#include <sys/mman.h>

#include <cstdlib>
#include <new>

namespace aigc {

void* allocate_host(std::size_t bytes) {
  constexpr std::size_t kHugePage = std::size_t(2) << 20;
  const std::size_t alignment = bytes >= kHugePage ? kHugePage : 64;
  const std::size_t rounded = (bytes + alignment - 1) / alignment * alignment;
  void* p = std::aligned_alloc(alignment, rounded == 0 ? alignment : rounded);
  if (p == nullptr) throw std::bad_alloc();
  if (alignment == kHugePage) ::madvise(p, rounded, MADV_HUGEPAGE);  // a hint: may be refused
  return p;
}

void FreeHost::operator()(void* p) const { std::free(p); }

}  // namespace aigc
