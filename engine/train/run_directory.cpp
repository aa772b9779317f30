#include "engine/train/run_directory.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <utility>
#include <vector>

#include "kernels/common.h"

namespace lumen {

namespace fs = std::filesystem;

namespace {

// The pid written into a lock file by the run holding it ("" when unknown).
std::string holder_pid(int fd) {
  char text[32] = {};
  const ssize_t n = ::pread(fd, text, sizeof(text) - 1, 0);
  std::string pid(text, n > 0 ? size_t(n) : 0);
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  return pid;
}

// What train() writes into output_dir: every checkpoint and the metrics (existing ones only).
std::vector<fs::path> earlier_run_files(const fs::path& dir) {
  std::vector<fs::path> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir / "checkpoints", ec)) {
    const std::string name = entry.path().filename().string();
    if (name == "last.safetensors" ||
        (name.rfind("epoch_", 0) == 0 && entry.path().extension() == ".safetensors")) {
      found.push_back(entry.path());
    }
  }
  if (fs::exists(dir / "metrics.jsonl")) found.push_back(dir / "metrics.jsonl");
  return found;
}

// Whether `name` is a temporary file of save_safetensors: "<file>.safetensors.tmp.<pid>".
bool is_checkpoint_temp(const std::string& name) {
  const std::string mark = ".safetensors.tmp.";
  const size_t at = name.rfind(mark);
  if (at == std::string::npos || at == 0) return false;
  const std::string pid = name.substr(at + mark.size());
  return !pid.empty() &&
         std::all_of(pid.begin(), pid.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Deletes the temporary checkpoint files a killed run left in `checkpoints` (none can be a live
// run's: that run would hold the lock).
void remove_checkpoint_temps(const fs::path& checkpoints) {
  std::error_code ec;
  int removed = 0;
  for (const auto& entry : fs::directory_iterator(checkpoints, ec)) {
    if (is_checkpoint_temp(entry.path().filename().string()) && fs::remove(entry.path(), ec)) {
      ++removed;
    }
  }
  if (removed > 0) {
    std::fprintf(stderr,
                 "removed %d unfinished checkpoint file%s left in %s by a run that was killed\n",
                 removed, removed == 1 ? "" : "s", checkpoints.string().c_str());
  }
}

// A file descriptor closed when it goes out of scope, unless released.
struct OwnedFd {
  int fd = -1;
  ~OwnedFd() {
    if (fd >= 0) ::close(fd);
  }
  int release() { return std::exchange(fd, -1); }
};

}  // namespace

RunDirectory::RunDirectory(const std::string& output_dir, bool resume, bool overwrite)
    : path_(output_dir) {
  LUMEN_CHECK(!(resume && overwrite), "resume=true continues the run in ", output_dir,
              " and overwrite=true deletes it: pass only one of them");
  std::error_code ec;
  fs::create_directories(fs::path(output_dir) / "checkpoints", ec);
  LUMEN_CHECK(!ec, "cannot create '", output_dir, "/checkpoints': ", ec.message());

  const std::string lock_path = output_dir + "/.lock";
  OwnedFd lock{::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)};
  LUMEN_CHECK(lock.fd >= 0, "cannot open the lock file '", lock_path, "': ", std::strerror(errno),
              "; check that output_dir is writable");
  if (::flock(lock.fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    LUMEN_CHECK(error == EWOULDBLOCK, "cannot lock '", lock_path, "': ", std::strerror(error));
    const std::string pid = holder_pid(lock.fd);
    LUMEN_FAIL("output_dir '", output_dir, "' is in use by another Lumen run",
               pid.empty() ? std::string() : " (pid " + pid + ")",
               ": two runs in one folder would overwrite each other's checkpoints. Wait for it to "
               "end, or pass another output_dir");
  }
  // For the message above in the next run refused; the lock holds without it too.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(lock.fd, 0) == 0) (void)!::pwrite(lock.fd, pid.data(), pid.size(), 0);
  remove_checkpoint_temps(fs::path(output_dir) / "checkpoints");

  if (!resume) {
    const std::vector<fs::path> earlier = earlier_run_files(output_dir);
    if (!earlier.empty() && !overwrite) {
      std::string names;
      for (size_t i = 0; i < earlier.size() && i < 3; ++i) {
        names += (i ? ", " : "") + fs::relative(earlier[i], output_dir).string();
      }
      if (earlier.size() > 3) names += ", ...";
      const bool resumable = fs::exists(fs::path(output_dir) / "checkpoints/last.safetensors");
      LUMEN_FAIL("output_dir '", output_dir, "' holds an earlier run (", names,
                 "); a new run there would overwrite its checkpoints and add to its metrics. ",
                 resumable ? "Continue it with resume=true, start" : "Start",
                 " the new run in another output_dir, or pass overwrite=true to delete the "
                 "earlier run's checkpoints and metrics (the image cache is kept)");
    }
    for (const fs::path& file : earlier) {
      fs::remove(file, ec);
      LUMEN_CHECK(!ec, "overwrite=true: cannot delete '", file.string(), "': ", ec.message());
    }
  }
  lock_fd_ = lock.release();
}

RunDirectory::~RunDirectory() {
  (void)!::ftruncate(lock_fd_, 0);  // no pid: nobody holds the folder
  ::close(lock_fd_);                // releases the lock
}

}  // namespace lumen
