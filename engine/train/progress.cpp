#include "engine/train/progress.h"

#include <unistd.h>

#include <cstdio>

namespace lumen {

Progress::Progress(std::string label, int64_t total)
    : label_(std::move(label)),
      total_(total),
      tty_(::isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_print_(start_) {}

std::string Progress::format_duration(double seconds) {
  if (!(seconds >= 0) || seconds > 1e7) return "--:--";
  const long s = long(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof(buf), "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof(buf), "%02ld:%02ld", s / 60, s % 60);
  }
  return buf;
}

void Progress::update(int64_t done, const std::string& text, bool force) {
  const auto now = std::chrono::steady_clock::now();
  if (first_done_ < 0) {
    first_done_ = done;
    start_ = now;
  }
  const double since_print = std::chrono::duration<double>(now - last_print_).count();
  if (!force && since_print < (tty_ ? 0.2 : 10.0)) return;
  last_print_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const int64_t steps = done - first_done_;
  const double eta = steps > 0 ? elapsed / double(steps) * double(total_ - done) : -1;
  std::fprintf(stderr, "%s%s %s ETA %s%s", tty_ ? "\r\033[K" : "", label_.c_str(), text.c_str(),
               format_duration(eta).c_str(), tty_ ? "" : "\n");
  std::fflush(stderr);
}

void Progress::finish(const std::string& text) {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::fprintf(stderr, "%s%s %s in %s\n", tty_ ? "\r\033[K" : "", label_.c_str(), text.c_str(),
               format_duration(elapsed).c_str());
  std::fflush(stderr);
}

}  // namespace lumen
