#include "engine/data/parallel.h"

#include <omp.h>
#include <unistd.h>

#include <cstdio>
#include <exception>

namespace lumen::data {

void parallel_for(int64_t n, int num_threads, const std::function<void(int64_t)>& fn) {
  if (n <= 0) return;
  const int threads = num_threads > 0 ? num_threads : omp_get_max_threads();
  std::exception_ptr first_error;
  std::mutex error_mutex;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (int64_t i = 0; i < n; ++i) {
    try {
      fn(i);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!first_error) first_error = std::current_exception();
    }
  }
  if (first_error) std::rethrow_exception(first_error);
}

ProgressBar::ProgressBar(std::string label, int64_t total, bool enabled)
    : label_(std::move(label)),
      total_(total),
      enabled_(enabled && total > 0),
      tty_(isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::advance(int64_t count) {
  const int64_t done = done_.fetch_add(count) + count;
  if (!enabled_) return;
  if (tty_) {
    std::unique_lock<std::mutex> lock(draw_mutex_, std::try_to_lock);
    if (!lock.owns_lock() || finished_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_draw_ < std::chrono::milliseconds(200)) return;
    last_draw_ = now;
    draw(done, false);
    return;
  }
  if (done * 4 < total_ * next_quarter_.load()) return;
  std::lock_guard<std::mutex> lock(draw_mutex_);
  const int64_t now_done = done_.load();
  int quarter = next_quarter_.load();
  if (finished_ || quarter >= 4 || now_done * 4 < total_ * quarter) return;
  while (quarter < 4 && now_done * 4 >= total_ * quarter) ++quarter;
  next_quarter_.store(quarter);
  draw(now_done, false);
}

void ProgressBar::finish() {
  std::lock_guard<std::mutex> lock(draw_mutex_);
  if (finished_ || !enabled_) return;
  finished_ = true;
  draw(done_.load(), true);
}

void ProgressBar::draw(int64_t done, bool final) {
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = seconds > 0 ? double(done) / seconds : 0.0;
  const int percent = int(100 * done / total_);
  if (tty_) {
    constexpr int kWidth = 30;
    const int filled = int(kWidth * done / total_);
    std::string bar(size_t(filled), '#');
    bar.resize(kWidth, '.');
    std::fprintf(stderr, "\r%s [%s] %3d%% %lld/%lld %.0f/s", label_.c_str(), bar.c_str(), percent,
                 (long long)done, (long long)total_, rate);
    if (final) std::fputc('\n', stderr);
  } else {
    std::fprintf(stderr, "%s: %lld/%lld (%d%%) %.0f/s%s\n", label_.c_str(), (long long)done,
                 (long long)total_, percent, rate, final ? ", done" : "");
  }
  std::fflush(stderr);
}

}  // namespace lumen::data
