#include "tools/serve/serve.h"

#include <omp.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <thread>

#include "api/embedder.h"
#include "api/train_config.h"
#include "tools/serve/server.h"

namespace lumen::serve {

std::vector<ConfigKey> serve_config_schema() {
  using K = ConfigKind;
  std::vector<ConfigKey> keys;
  for (const ConfigKey& k : embed_config_schema()) {
    // The model and preprocessing keys of `lumen embed`; not its dataset and output keys.
    if (k.name == "checkpoint" || k.name == "model.name" || k.name == "model.width" ||
        k.name == "collate.input_size" || k.name == "device" || k.name == "trainer.precision" ||
        k.name == "seed") {
      keys.push_back(k);
    }
  }
  const std::vector<ConfigKey> more = {
      {"host", K::text, "127.0.0.1", "address to listen on (0.0.0.0: every interface)"},
      {"index", K::path, "",
       "embeddings CSV (lumen embed's output for the same model) that POST /v1/neighbors "
       "searches; empty: no index"},
      {"port", K::integer, "8080", "port to listen on (0: any free port, printed)", {}, 0},
      {"max_batch", K::integer, "32", "most images in one forward pass", {}, 1},
      {"max_delay_ms",
       K::number,
       "2",
       "longest an image waits for others to fill its batch (milliseconds)",
       {},
       0},
      {"workers",
       K::integer,
       "1",
       "forward passes run at once (each with its own workspace)",
       {},
       1},
      {"threads",
       K::integer,
       "0",
       "threads of one forward pass on the CPU (0: cores / workers)",
       {},
       0},
      {"max_queue",
       K::integer,
       "256",
       "most images waiting; a request that does not fit gets 503 with Retry-After",
       {},
       1},
      {"max_body_mb",
       K::number,
       "32",
       "largest request body (MiB); larger ones get 413",
       {},
       0.001},
      {"http_threads",
       K::integer,
       "64",
       "connections served at once (an open keep-alive connection keeps its thread)",
       {},
       1},
  };
  keys.insert(keys.end(), more.begin(), more.end());
  return keys;
}

int run_serve(const std::vector<std::string>& args) {
  // SIGTERM and SIGINT go to one thread that stops the server: blocked here, before any other
  // thread exists (threads inherit the mask), and taken with sigwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  Config config(serve_config_schema());
  config.parse_args(args);
  ServerOptions options;
  options.host = config.get_string("host");
  options.port = int(config.get_int("port"));
  options.batching.max_batch = config.get_int("max_batch");
  options.batching.max_delay =
      std::chrono::microseconds(int64_t(config.get_float("max_delay_ms") * 1000.0));
  options.batching.workers = int(config.get_int("workers"));
  options.batching.max_queue = config.get_int("max_queue");
  options.max_body_mb = config.get_float("max_body_mb");
  options.http_threads = int(config.get_int("http_threads"));
  EmbedderSettings settings;
  settings.max_batch = options.batching.max_batch;
  settings.threads = int(config.get_int("threads"));
  if (settings.threads == 0) {
    settings.threads = std::max(1, omp_get_max_threads() / options.batching.workers);
  }
  const Embedder embedder(config, nullptr, settings);
  NeighborBank bank;
  const std::string index_path = config.get_string("index");
  if (!index_path.empty()) bank = load_neighbor_bank(index_path, embedder.dim());
  EmbedServer server(embedder, options, bank.index ? &bank : nullptr);
  const int port = server.bind();
  std::printf(
      "lumen serve: listening on http://%s:%d (%s%s%s, %lld-dimensional, %dx%d input, %s %s; "
      "max_batch %lld, max_delay_ms %g, workers %d%s)\n",
      options.host.c_str(), port, embedder.model_name().c_str(),
      embedder.checkpoint().empty() ? " with random weights" : " from ",
      embedder.checkpoint().c_str(), static_cast<long long>(embedder.dim()), embedder.input_size(),
      embedder.input_size(), embedder.device().str().c_str(), dtype_name(embedder.dtype()),
      static_cast<long long>(options.batching.max_batch), config.get_float("max_delay_ms"),
      options.batching.workers,
      bank.index ? (", index of " + std::to_string(bank.index->size()) + " embeddings").c_str()
                 : "");
  std::fflush(stdout);
  std::atomic<bool> signalled{false}, server_done{false};
  std::thread signals([&] {
    int signal = 0;
    sigwait(&stop_signals, &signal);
    signalled = true;
    if (!server_done) {
      std::printf("lumen serve: signal %d: no new connections; finishing the requests in flight\n",
                  signal);
      std::fflush(stdout);
    }
    server.stop();
  });
  server.run();
  // run() can also end without a signal (the listening socket failed): wake the signal thread.
  server_done = true;
  if (!signalled) pthread_kill(signals.native_handle(), SIGTERM);
  signals.join();
  std::printf("lumen serve: stopped\n");
  return 0;
}

}  // namespace lumen::serve
