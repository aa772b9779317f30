// Runs a function with the process's stderr (file descriptor 2) sent to a temporary file, and
// returns what was written there: for tests that a library prints nothing.
#pragma once

#include <functional>
#include <string>

namespace lumen::testing {

std::string stderr_of(const std::function<void()>& fn);

}  // namespace lumen::testing
