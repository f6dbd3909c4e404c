#pragma once
// The aigcbench command line, as a function so tests can drive it in-process.
#include <ostream>
#include <string>
#include <vector>

namespace aigc {

// args: the arguments after the program name. Returns the exit status: 0 success,
// 1 a failure while running, 2 bad input (one line on `err` naming the argument).
int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace aigc
