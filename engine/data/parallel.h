// A parallel loop for per-file work (decoding) and a progress bar for long loops.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

namespace lumen::data {

// Calls fn(i) for i in [0, n) on num_threads threads (0: all cores), handing out indices
// dynamically. The first exception thrown by fn is rethrown after the loop.
void parallel_for(int64_t n, int num_threads, const std::function<void(int64_t)>& fn);

// Progress on stderr: a bar redrawn in place when stderr is a terminal, otherwise a line at each
// quarter. Thread-safe; drawing is throttled to a few times a second.
class ProgressBar {
 public:
  ProgressBar(std::string label, int64_t total, bool enabled = true);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void advance(int64_t count = 1);
  void finish();  // draws the final state once

 private:
  void draw(int64_t done, bool final);
  std::string label_;
  int64_t total_;
  bool enabled_;
  bool tty_;
  bool finished_ = false;
  std::atomic<int64_t> done_{0};
  std::atomic<int> next_quarter_{1};
  std::mutex draw_mutex_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace lumen::data
