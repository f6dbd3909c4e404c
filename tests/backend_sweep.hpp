#pragma once
// Runs a check on every available backend at each thread count it accepts (1, 2 and 3
// for the multithreaded ones, to include an odd count and oversubscription). A backend that
// cannot run here (no GPU) is skipped with its reason, asked of its descriptor before anything
// is built. A backend may refuse an op its descriptor does not list (UnsupportedOp, e.g. the
// bf16 matmul path's attention); refusing one it lists fails the test.
#include <catch2/catch.hpp>

#include "kernels/registry.hpp"

template <typename Check>
void for_each_backend_and_thread_count(Check&& check) {
  for (const aigc::BackendDescriptor* d : aigc::backend_descriptors()) {
    const std::string& name = d->name;
#ifdef AIGC_CUDA_EMULATION
    // This binary is for the emulated GPU backends: aigc_tests runs the same checks on the CPU
    // backends, from the same build, so they are not swept twice (5 minutes under ASan).
    if (!d->device_timer) continue;
#endif
    if (const aigc::Availability av = d->availability(); !av.available) {
      WARN("skipping " << name << ": " << av.reason);
      continue;
    }
    auto backend = d->make();
    const std::vector<int> thread_counts =
        backend->is_multithreaded() ? std::vector<int>{1, 2, 3} : std::vector<int>{1};
    for (const int threads : thread_counts) {
      backend->set_threads(threads);
      try {
        check(*backend, name, threads);
      } catch (const aigc::UnsupportedOp& e) {
        // The descriptor's own refusal text: an op it does not list.
        if (std::string(e.what()).find(name + " has no ") != 0) throw;
        WARN("skipping " << name << ": " << e.what());
        break;
      }
    }
  }
}

// The same at one thread each.
template <typename Check>
void for_each_backend(Check&& check) {
  for_each_backend_and_thread_count(
      [&](aigc::Backend& backend, const std::string& name, int threads) {
        if (threads == 1) check(backend, name);
      });
}
