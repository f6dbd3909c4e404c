#pragma once
// Errors are values the CLI can turn into one line and exit status 2: each names
// the argument at fault and the range it must lie in.
#include <stdexcept>
#include <string>

namespace aigc {

// A user-supplied value is out of range or malformed.
class InvalidArgument : public std::invalid_argument {
 public:
  InvalidArgument(const std::string& argument, const std::string& problem)
      : std::invalid_argument(argument + ": " + problem), argument_(argument), problem_(problem) {}
  const std::string& argument() const { return argument_; }
  // What is wrong, without the argument's name (to say it again under another name).
  const std::string& detail() const { return problem_; }

 private:
  std::string argument_, problem_;
};

// A backend does not implement an op (yet); the run records it as skipped.
class UnsupportedOp : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A configuration needs more memory than the machine has available; the run records
// it as skipped with the size it would need, and goes on with the other backends.
class InsufficientMemory : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The device is in a state no later work can run in (a CUDA kernel faulted: illegal address,
// illegal instruction, assert; the error is sticky until the process ends). The run records
// the row that hit it as an error and skips every later row on that device, with the reason,
// instead of recording the same error on each of them.
class DeviceFault : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace aigc
