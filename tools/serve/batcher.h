// Dynamic batching for `lumen serve`: the images of concurrent requests wait in one bounded queue;
// each of `workers` threads takes up to max_batch of them as soon as that many wait, or when the
// oldest has waited max_delay, and runs one forward pass on the Embedder (which is thread-safe:
// each worker thread gets its own workspace). A request whose images do not all fit is refused
// whole (the server answers 503), so memory stays bounded however many clients there are.
//
//   Batcher batcher(embedder, options, &metrics);
//   std::optional<std::future<Tensor>> f = batcher.submit(images);  // nullopt: queue full
//   Tensor rows = f->get();                                         // (k, D), the images' order
//   batcher.hurry();  // shutting down: batches go at once, without waiting for max_delay
//   batcher.stop();   // runs what is queued, then the workers end
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "api/embedder.h"
#include "tools/serve/metrics.h"

namespace lumen::serve {

struct BatcherOptions {
  int64_t max_batch = 32;
  std::chrono::microseconds max_delay{2000};
  int workers = 1;
  int64_t max_queue = 256;  // images
};

class Batcher {
 public:
  Batcher(const Embedder& embedder, const BatcherOptions& options, ServerMetrics* metrics);
  ~Batcher();  // stop()
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // Queues the images of one request, each (S, S, 3) u8 as Embedder::prepare makes them; the
  // future gives their embeddings (k, D) f32 in order, or the forward's error. nullopt when they
  // do not all fit in the queue now (or the batcher is stopping).
  std::optional<std::future<Tensor>> submit(std::vector<Tensor> images);
  // From now on batches run as soon as a worker is free (requests still come in while a server
  // drains; none should wait for a batch to fill).
  void hurry();
  // Refuses new requests, finishes every queued image, then joins the workers. Idempotent.
  void stop();
  int64_t depth() const;  // images waiting
  int64_t capacity() const { return options_.max_queue; }

 private:
  struct Request {
    std::promise<Tensor> done;
    Tensor rows;  // (k, D)
    int64_t remaining = 0;
    bool failed = false;
  };
  struct Item {
    std::shared_ptr<Request> request;
    int64_t index;  // the image's row in its request
    Tensor image;
    std::chrono::steady_clock::time_point queued;
  };
  void work();

  const Embedder& embedder_;
  BatcherOptions options_;
  ServerMetrics* metrics_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Item> queue_;
  bool hurry_ = false, stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace lumen::serve
