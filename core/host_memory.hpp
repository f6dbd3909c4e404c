#pragma once
// Host memory for large arrays: 64-byte aligned (a cache line, an AVX-512 vector), and a buffer
// of 2 MiB or more on 2 MiB pages where the kernel allows them (transparent huge pages in
// "madvise" mode, as Debian sets them). A matrix-vector product streams every weight once per
// token; on 4 KiB pages each 4 KiB of it costs a TLB miss, and the page-table walks cut the
// bandwidth a core reaches (measured on a Zen 5 VM: the 50257 x 768 fp32 logits product, one
// thread, 4.9 ms on 4 KiB pages, 4.6 on 2 MiB). The backends' buffers and the probe's arrays
// both come from here, so the probe's ceilings hold the kernels' memory as it is.
#include <cstddef>
#include <memory>

namespace aigc {

// Uninitialized; freed with std::free.
void* allocate_host(std::size_t bytes);

struct FreeHost {
  void operator()(void* p) const;
};
template <typename T>
using HostArray = std::unique_ptr<T[], FreeHost>;

// n values of T, each set to `fill`.
template <typename T>
HostArray<T> host_array(std::size_t n, T fill) {
  HostArray<T> a(static_cast<T*>(allocate_host(n * sizeof(T))));
  for (std::size_t i = 0; i < n; ++i) a[i] = fill;
  return a;
}

}  // namespace aigc
