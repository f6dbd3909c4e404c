#include <iostream>

#include "driver/cli.hpp"

int main(int argc, char** argv) {
  return aigc::run_cli(std::vector<std::string>(argv + 1, argv + argc), std::cout, std::cerr);
}
