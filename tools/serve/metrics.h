// The counters `lumen serve` exposes at GET /metrics, in Prometheus' text format (version 0.0.4):
//   lumen_http_requests_total{route,status}          counter: every response
//   lumen_http_errors_total{route,status}            counter: responses with status >= 400
//   lumen_http_request_duration_seconds{route}       histogram: request received -> response
//   lumen_batch_size                                 histogram: images per forward pass
//   lumen_queue_depth / lumen_queue_capacity         gauges: images waiting / the bound
// Routes are the server's own ("/v1/embed", ...) and "other", so that the label set stays bounded
// whatever paths clients send. Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace lumen::serve {

class ServerMetrics {
 public:
  void record_request(const std::string& route, int status, double seconds);
  void record_batch(int64_t images);
  // The exposition text; queue gauges as given.
  std::string prometheus(int64_t queue_depth, int64_t queue_capacity) const;

 private:
  static constexpr std::array<double, 14> kLatencyBuckets = {
      0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30};
  static constexpr std::array<double, 9> kBatchBuckets = {1, 2, 4, 8, 16, 32, 64, 128, 256};
  struct Histogram {
    std::array<uint64_t, 16> buckets{};  // cumulative counts are computed when exposed
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
  Histogram batches_;
};

}  // namespace lumen::serve
