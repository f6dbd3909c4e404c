#pragma once
// One configuration measured in this process: built, verified against its reference, timed by
// Google Benchmark; every failure becomes the row's status.
#include <exception>
#include <optional>
#include <string>

#include "measure/measurement.hpp"
#include "measure/runner.hpp"

namespace aigc {

// The row of a spec that was not measured, with `status` saying why.
Measurement unmeasured(const BenchSpec& spec, std::string status);

// The status of a configuration a failure stopped: "skipped: ..." where the backend lacks a
// capability or the memory (UnsupportedOp, InsufficientMemory), "error: ..." otherwise.
std::string failure_status(const std::exception& e);

// Verifies and times one spec; every failure becomes the row's status, so the run goes on.
// A device fault is also returned in `*fault`, where given: nothing more can run on that device.
Measurement measure(const BenchSpec& spec, const TimingPolicy& timing,
                    std::string* fault = nullptr);

}  // namespace aigc
