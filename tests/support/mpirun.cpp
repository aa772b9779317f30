#include "support/mpirun.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "engine/dist/mpi_runtime.h"

namespace lumen::testing {

namespace {
std::string find_on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::string candidate = dir + "/" + program;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}
}  // namespace

std::string mpirun_missing() {
  if (!mpi::built_with_mpi()) return "this Lumen was built without MPI";
  if (find_on_path("mpirun").empty()) return "mpirun is not on PATH (install openmpi-bin)";
  return "";
}

std::string mpirun_prefix(int ranks) {
  // Ranks inherit the environment; OMP_NUM_THREADS stays the ranks' own choice (cores / ranks).
  return "mpirun --oversubscribe " + std::string(geteuid() == 0 ? "--allow-run-as-root " : "") +
         "-np " + std::to_string(ranks) + " ";
}

int run_self_under_mpirun(const char* argv0, const std::vector<int>& ranks) {
  const std::string self = std::filesystem::canonical("/proc/self/exe").string();
  for (int n : ranks) {
    const std::string command = mpirun_prefix(n) + self;
    std::printf("%s: %s\n", argv0, command.c_str());
    std::fflush(stdout);
    const int status = std::system(command.c_str());
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
    if (code != 0) return code;
  }
  return 0;
}

}  // namespace lumen::testing
