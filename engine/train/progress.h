// A one-line progress display on stderr: redrawn in place on a terminal, a plain line every few
// seconds otherwise (logs, CI).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace lumen {

class Progress {
 public:
  // total: steps of the whole job (for the ETA); label prefixes every line.
  Progress(std::string label, int64_t total);
  // done: steps finished so far; text: the job's own fields ("loss 4.12 lr 0.06 ...").
  void update(int64_t done, const std::string& text, bool force = false);
  void finish(const std::string& text);

  static std::string format_duration(double seconds);  // "1:02:03" / "02:03"

 private:
  std::string label_;
  int64_t total_;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_print_;
  int64_t first_done_ = -1;
};

}  // namespace lumen
