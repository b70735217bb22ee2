// The `tributary` command line: serve, ingest, closure, rebuild.
//
// RunCli parses arguments, runs the command and returns the process exit code:
// 0 success, 1 failure, 2 usage error, 3 some events rejected (ingest).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace tributary {

int RunCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace tributary
