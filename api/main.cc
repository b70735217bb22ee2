// The tributary executable: see api/cli.h.
#include <iostream>
#include <string>
#include <vector>

#include "api/cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return tributary::RunCli(args, std::cout, std::cerr);
}
