// Running programs as several ranks through Open MPI's mpirun, for the data-parallel suites
// (test_dist_*): ranks are processes on this machine (--oversubscribe: more ranks than cores).
// Where mpirun or MPI is missing the suites exit 77 (skipped).
#pragma once

#include <string>
#include <vector>

namespace lumen::testing {

// Why the data-parallel suites cannot run here ("" when they can): a build without MPI, or no
// mpirun on PATH.
std::string mpirun_missing();

// "mpirun --oversubscribe -np N ..." (with --allow-run-as-root when root), ready for a command.
std::string mpirun_prefix(int ranks);

// Runs each of `ranks` copies of this test program through mpirun (the suite's main when no
// launcher started it) and returns 0 when every run passed, else the first failing exit code.
int run_self_under_mpirun(const char* argv0, const std::vector<int>& ranks);

}  // namespace lumen::testing
