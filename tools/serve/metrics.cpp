#include "tools/serve/metrics.h"

#include <cstdio>

namespace lumen::serve {

namespace {

// Adds one observation to a histogram with the given (ascending) upper bounds.
template <typename Buckets, typename Histogram>
void observe(Histogram& h, const Buckets& bounds, double value) {
  size_t i = 0;
  while (i < bounds.size() && value > bounds[i]) ++i;
  ++h.buckets[i];  // i == bounds.size(): only +Inf
  ++h.count;
  h.sum += value;
}

std::string number(double v) {
  char text[64];
  std::snprintf(text, sizeof text, "%.9g", v);
  return text;
}

template <typename Buckets, typename Histogram>
void expose(std::string& out, const std::string& name, const std::string& labels,
            const Buckets& bounds, const Histogram& h) {
  const std::string sep = labels.empty() ? "" : ",";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds.size(); ++i) {
    cumulative += h.buckets[i];
    out += name + "_bucket{" + labels + sep + "le=\"" + number(bounds[i]) + "\"} " +
           std::to_string(cumulative) + "\n";
  }
  out += name + "_bucket{" + labels + sep + "le=\"+Inf\"} " + std::to_string(h.count) + "\n";
  const std::string braces = labels.empty() ? "" : "{" + labels + "}";
  out += name + "_sum" + braces + " " + number(h.sum) + "\n";
  out += name + "_count" + braces + " " + std::to_string(h.count) + "\n";
}

}  // namespace

void ServerMetrics::record_request(const std::string& route, int status, double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[{route, status}];
  observe(latency_[route], kLatencyBuckets, seconds);
}

void ServerMetrics::record_batch(int64_t images) {
  std::lock_guard<std::mutex> lock(mutex_);
  observe(batches_, kBatchBuckets, double(images));
}

std::string ServerMetrics::prometheus(int64_t queue_depth, int64_t queue_capacity) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out;
  out += "# HELP lumen_http_requests_total HTTP responses by route and status.\n";
  out += "# TYPE lumen_http_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    out += "lumen_http_requests_total{route=\"" + key.first + "\",status=\"" +
           std::to_string(key.second) + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP lumen_http_errors_total HTTP responses with a status of 400 or more.\n";
  out += "# TYPE lumen_http_errors_total counter\n";
  for (const auto& [key, n] : requests_) {
    if (key.second < 400) continue;
    out += "lumen_http_errors_total{route=\"" + key.first + "\",status=\"" +
           std::to_string(key.second) + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP lumen_http_request_duration_seconds From the request's headers to its response.\n";
  out += "# TYPE lumen_http_request_duration_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    expose(out, "lumen_http_request_duration_seconds", "route=\"" + route + "\"", kLatencyBuckets,
           h);
  }
  out += "# HELP lumen_batch_size Images per forward pass (dynamic batching).\n";
  out += "# TYPE lumen_batch_size histogram\n";
  expose(out, "lumen_batch_size", "", kBatchBuckets, batches_);
  out += "# HELP lumen_queue_depth Images waiting for a forward pass.\n";
  out += "# TYPE lumen_queue_depth gauge\n";
  out += "lumen_queue_depth " + std::to_string(queue_depth) + "\n";
  out += "# HELP lumen_queue_capacity The most images that may wait (max_queue); beyond, 503.\n";
  out += "# TYPE lumen_queue_capacity gauge\n";
  out += "lumen_queue_capacity " + std::to_string(queue_capacity) + "\n";
  return out;
}

}  // namespace lumen::serve
