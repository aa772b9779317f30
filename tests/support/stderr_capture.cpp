#include "support/stderr_capture.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace lumen::testing {

std::string stderr_of(const std::function<void()>& fn) {
  std::fflush(stderr);
  char path[] = "/tmp/lumen_stderr_XXXXXX";
  const int file = mkstemp(path);
  if (file < 0) throw std::runtime_error("cannot create a temporary file");
  unlink(path);
  const int saved = dup(STDERR_FILENO);
  dup2(file, STDERR_FILENO);
  try {
    fn();
  } catch (...) {
    std::fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(file);
    throw;
  }
  std::fflush(stderr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  std::string text(size_t(lseek(file, 0, SEEK_END)), '\0');
  if (!text.empty() && pread(file, text.data(), text.size(), 0) != ssize_t(text.size())) {
    text = "(cannot read the captured stderr)";
  }
  close(file);
  return text;
}

}  // namespace lumen::testing
