// The commands that work on embeddings after training, each in its own file (main.cpp
// dispatches): `lumen neighbors`, `lumen select`, `lumen report`. Each takes the arguments after
// the command name and returns the exit status; errors are thrown as lumen::Error.
#pragma once

#include <string>
#include <vector>

namespace lumen::cli {

int run_neighbors(const std::vector<std::string>& args);
int run_select(const std::vector<std::string>& args);
int run_report(const std::vector<std::string>& args);

// True when the arguments ask for --help (then the command prints its keys).
bool wants_help(const std::vector<std::string>& args);

}  // namespace lumen::cli
