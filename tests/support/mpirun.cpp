#include "support/mpirun.h"

#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

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

BackgroundJob::BackgroundJob(const std::string& command, const std::string& log) {
  pid_ = fork();
  if (pid_ == 0) {
    setpgid(0, 0);  // its own process group, so that the destructor ends mpirun and its ranks
    const std::string line = "exec " + command + " >" + log + " 2>&1";
    execl("/bin/sh", "sh", "-c", line.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
}

BackgroundJob::~BackgroundJob() {
  if (pid_ <= 0) return;
  kill(-pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
}

int BackgroundJob::rank_pid(int rank) const {
  const std::string wanted = "OMPI_COMM_WORLD_RANK=" + std::to_string(rank);
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return -1;
  int found = -1;
  while (dirent* entry = readdir(proc)) {
    const int pid = std::atoi(entry->d_name);
    if (pid <= 0) continue;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    const size_t close = line.rfind(')');  // "pid (name) state ppid ..."
    if (close == std::string::npos) continue;
    char state = 0;
    int ppid = 0;
    if (std::sscanf(line.c_str() + close + 1, " %c %d", &state, &ppid) != 2 || ppid != pid_) {
      continue;
    }
    std::ifstream environ("/proc/" + std::to_string(pid) + "/environ");
    for (std::string var; std::getline(environ, var, '\0');) {
      if (var == wanted) found = pid;
    }
  }
  closedir(proc);
  return found;
}

int BackgroundJob::wait(double timeout_s) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (pid_ > 0) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (std::chrono::steady_clock::now() > end) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return -1;
}

bool wait_for_file(const std::string& path, double timeout_s) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (!std::filesystem::exists(path)) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

}  // namespace lumen::testing
