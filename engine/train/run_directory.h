// A training run's hold on its output folder, for the run's whole length:
// - an advisory lock (flock) on output_dir/.lock, taken without waiting: a second run in the same
//   folder fails at once with an error naming the folder and the pid of the run that holds it.
//   The lock ends with the RunDirectory, and the kernel drops it when the process ends however it
//   ends (a crash or SIGKILL leaves no stale lock);
// - the unfinished checkpoint files of a killed run (save_safetensors' "<file>.tmp.<pid>" in
//   output_dir/checkpoints) are deleted: with the lock held, no live run can be writing them;
// - a fresh run (resume=false) refuses a folder holding an earlier run's checkpoints or metrics,
//   offering resume=true, another output_dir or overwrite=true; overwrite=true deletes them (the
//   image cache under output_dir/cache is kept: it depends only on the images).
#pragma once

#include <string>

namespace lumen {

class RunDirectory {
 public:
  // Creates output_dir (and output_dir/checkpoints) if needed, then claims it as described above.
  RunDirectory(const std::string& output_dir, bool resume, bool overwrite);
  ~RunDirectory();
  RunDirectory(const RunDirectory&) = delete;
  RunDirectory& operator=(const RunDirectory&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int lock_fd_ = -1;
};

}  // namespace lumen
