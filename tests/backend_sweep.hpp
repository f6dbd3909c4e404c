#pragma once
// Runs a check on every available backend at each thread count it accepts (1, 2 and 3
// for the multithreaded ones, to include an odd count and oversubscription). A backend that
// cannot run here (no GPU) is skipped with its reason. The one backend documented as
// partial, the bf16 matmul path, may refuse an op with UnsupportedOp; any other backend
// must implement every op, so its UnsupportedOp fails the test.
#include <catch2/catch.hpp>

#include "kernels/registry.hpp"

template <typename Check>
void for_each_backend_and_thread_count(Check&& check) {
  for (const std::string& name : aigc::backend_names()) {
    auto backend = aigc::make_backend(name);
    if (!backend->availability().available) {
      WARN("skipping " << name << ": " << backend->availability().reason);
      continue;
    }
    const std::vector<int> thread_counts =
        backend->is_multithreaded() ? std::vector<int>{1, 2, 3} : std::vector<int>{1};
    for (const int threads : thread_counts) {
      backend->set_threads(threads);
      try {
        check(*backend, name, threads);
      } catch (const aigc::UnsupportedOp& e) {
        if (backend->dtype() == "f32") throw;
        WARN("skipping " << name << ": " << e.what());
        break;
      }
    }
  }
}

// The same at one thread each.
template <typename Check>
void for_each_backend(Check&& check) {
  for_each_backend_and_thread_count([&](aigc::Backend& backend, const std::string& name,
                                        int threads) {
    if (threads == 1) check(backend, name);
  });
}
