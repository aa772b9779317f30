// `lumen serve`: an Embedder behind an HTTP/1.1 server (cpp-httplib), with dynamic batching
// (tools/serve/batcher.h) and Prometheus metrics (tools/serve/metrics.h).
//   POST /v1/embed        one encoded image as the body -> {"embedding": [...], "dim", "model",
//                         "checkpoint"}
//   POST /v1/embed_batch  {"images": ["<base64>", ...]} -> {"embeddings": [[...], ...], ...},
//                         in the order given
//   POST /v1/neighbors    one encoded image as the body (?k=10), or JSON {"image": "<base64>"} or
//                         {"embedding": [...]} with an optional "k" -> {"neighbors":
//                         [{"filename", "similarity"}, ...], "k", "bank"}: the most similar rows
//                         of the bank loaded with index= (lumen embed's CSV), most similar first
//   GET  /healthz         200 "ok"
//   GET  /metrics         Prometheus text
// Errors are JSON {"error": "..."} that name the problem: 400 (empty body, not an image, a damaged
// or oversized image by the data path's decode limits, bad JSON or base64), 404 (unknown route),
// 405 (wrong method, with Allow), 413 (body past max_body_mb), 503 with Retry-After (queue full,
// or stopping), 500 (the forward failed). stop() stops accepting, lets the requests in flight
// finish, then drains the batcher.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "api/embedder.h"
#include "engine/search/cosine_index.h"
#include "tools/serve/batcher.h"
#include "tools/serve/metrics.h"

namespace httplib {
class Server;
struct Response;
}  // namespace httplib

namespace lumen::serve {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (port() says which)
  BatcherOptions batching;
  double max_body_mb = 32;
  int http_threads = 64;  // connections served at once (each keeps its thread while open)
};

// The embeddings POST /v1/neighbors searches (lightly's CSV, as `lumen embed` writes it).
struct NeighborBank {
  std::vector<std::string> filenames;  // of the bank's rows
  std::unique_ptr<CosineIndex> index;  // exact cosine search on the CPU
};
// Reads an embeddings CSV into a bank for an embedder of `dim` features; throws naming the file
// when it cannot be read or its rows have another dimension.
NeighborBank load_neighbor_bank(const std::string& csv_path, int64_t dim);

class EmbedServer {
 public:
  // bank: what /v1/neighbors searches (null: the route answers 404 saying how to load one).
  EmbedServer(const Embedder& embedder, const ServerOptions& options,
              const NeighborBank* bank = nullptr);
  ~EmbedServer();
  EmbedServer(const EmbedServer&) = delete;
  EmbedServer& operator=(const EmbedServer&) = delete;

  // Binds host:port; throws naming the address when it cannot. Returns the port.
  int bind();
  // Serves until stop(); then finishes the requests in flight and the queued images.
  void run();
  // Thread-safe (a signal-handling thread calls it); idempotent.
  void stop();
  int port() const { return port_; }

 private:
  const Embedder& embedder_;
  ServerOptions options_;
  const NeighborBank* bank_;
  ServerMetrics metrics_;
  Batcher batcher_;
  std::unique_ptr<httplib::Server> http_;
  std::atomic<bool> stopping_{false}, started_{false}, finished_{false};
  int port_ = -1;
  void install_routes();
  void install_neighbors_route();
  // Queues images and waits for their rows (N, D); false with 503 / 500 in `res` when it cannot.
  bool embed_rows(std::vector<Tensor> images, httplib::Response& res, Tensor* rows);
};

}  // namespace lumen::serve
