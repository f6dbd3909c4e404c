#include <csignal>
#include <iostream>

#include "driver/cli.hpp"

int main(int argc, char** argv) {
  // A reader that closes the pipe (`aigcbench run | head`) makes writes fail with EPIPE, which
  // run_cli reports, instead of a SIGPIPE that would end a run before its results are written
  // and leave its lock behind.
  std::signal(SIGPIPE, SIG_IGN);
  return aigc::run_cli(std::vector<std::string>(argv + 1, argv + argc), std::cout, std::cerr);
}
