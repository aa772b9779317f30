#include "tools/serve/batcher.h"

#include <cstring>

namespace lumen::serve {

Batcher::Batcher(const Embedder& embedder, const BatcherOptions& options, ServerMetrics* metrics)
    : embedder_(embedder), options_(options), metrics_(metrics) {
  LUMEN_CHECK(options.max_batch >= 1 && options.workers >= 1 && options.max_queue >= 1,
              "Batcher: max_batch, workers and max_queue must be at least 1");
  for (int i = 0; i < options.workers; ++i) workers_.emplace_back([this] { work(); });
}

Batcher::~Batcher() { stop(); }

std::optional<std::future<Tensor>> Batcher::submit(std::vector<Tensor> images) {
  auto request = std::make_shared<Request>();
  request->remaining = int64_t(images.size());
  request->rows = Tensor::empty({int64_t(images.size()), embedder_.dim()});
  std::future<Tensor> future = request->done.get_future();
  if (images.empty()) {
    request->done.set_value(request->rows);
    return future;
  }
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ || int64_t(queue_.size() + images.size()) > options_.max_queue) {
      return std::nullopt;
    }
    for (size_t i = 0; i < images.size(); ++i) {
      queue_.push_back(Item{request, int64_t(i), std::move(images[i]), now});
    }
  }
  wake_.notify_all();
  return future;
}

int64_t Batcher::depth() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return int64_t(queue_.size());
}

void Batcher::hurry() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    hurry_ = true;
  }
  wake_.notify_all();
}

void Batcher::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    hurry_ = stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : workers_) {
    if (t.joinable()) t.join();
  }
}

void Batcher::work() {
  for (;;) {
    std::vector<Item> batch;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      // Wait for a full batch, at most until the oldest image has waited max_delay (no waiting
      // when hurried: draining).
      const auto deadline = queue_.front().queued + options_.max_delay;
      wake_.wait_until(lock, deadline,
                       [&] { return hurry_ || int64_t(queue_.size()) >= options_.max_batch; });
      if (queue_.empty()) continue;  // another worker took them
      const int64_t n = std::min<int64_t>(options_.max_batch, int64_t(queue_.size()));
      for (int64_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    if (metrics_ != nullptr) metrics_->record_batch(int64_t(batch.size()));
    const Tensor& first = batch.front().image;
    Tensor images =
        Tensor::empty({int64_t(batch.size()), first.size(0), first.size(1), 3}, DType::u8);
    for (size_t i = 0; i < batch.size(); ++i) {
      std::memcpy(images.data<uint8_t>() + i * first.nbytes(), batch[i].image.raw_data(),
                  first.nbytes());
    }
    Tensor rows;
    std::exception_ptr error;
    try {
      rows = embedder_.embed(images);
    } catch (...) {
      error = std::current_exception();
    }
    // Rows to their requests; a request is answered when its last image is.
    std::lock_guard<std::mutex> lock(mutex_);
    for (size_t i = 0; i < batch.size(); ++i) {
      Request& r = *batch[i].request;
      if (error) {
        if (!r.failed) r.done.set_exception(error);
        r.failed = true;
      } else if (!r.failed) {
        r.rows.rows(batch[i].index, 1).copy_from(rows.rows(int64_t(i), 1));
      }
      if (--r.remaining == 0 && !r.failed) r.done.set_value(r.rows);
    }
  }
}

}  // namespace lumen::serve
