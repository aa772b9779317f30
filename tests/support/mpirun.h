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

// A shell command (e.g. mpirun_prefix(2) + "lumen train ...") started in the background, its
// stdout and stderr going to `log`; SIGKILLed and reaped when the object goes unless finished.
class BackgroundJob {
 public:
  BackgroundJob(const std::string& command, const std::string& log);
  ~BackgroundJob();
  BackgroundJob(const BackgroundJob&) = delete;
  BackgroundJob& operator=(const BackgroundJob&) = delete;

  int pid() const { return pid_; }
  // The pid of the child of this job's mpirun that is rank `rank` (OMPI_COMM_WORLD_RANK), or -1
  // when none is (yet).
  int rank_pid(int rank) const;
  // Waits at most timeout_s for the job to end: its exit code (128 + n for signal n), or -1 when
  // it is still running then.
  int wait(double timeout_s);

 private:
  int pid_ = -1;
};

// Waits at most timeout_s for `path` to exist.
bool wait_for_file(const std::string& path, double timeout_s);

}  // namespace lumen::testing
