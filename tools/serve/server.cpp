#include "tools/serve/server.h"

#include <httplib.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <thread>

#include "engine/io/embeddings_csv.h"
#include "engine/io/strict_json.h"
#include "tools/serve/base64.h"

namespace lumen::serve {

namespace {

using Clock = std::chrono::steady_clock;

struct Route {
  const char* path;
  const char* method;
};
constexpr Route kRoutes[] = {{"/v1/embed", "POST"},
                             {"/v1/embed_batch", "POST"},
                             {"/v1/neighbors", "POST"},
                             {"/healthz", "GET"},
                             {"/metrics", "GET"}};
constexpr const char* kRouteList =
    "POST /v1/embed, POST /v1/embed_batch, POST /v1/neighbors, GET /healthz, GET /metrics";

const Route* find_route(const std::string& path) {
  for (const Route& r : kRoutes) {
    if (path == r.path) return &r;
  }
  return nullptr;
}

// The request being served on this thread (cpp-httplib serves a connection's requests one after
// the other on one thread): its route label and when its headers arrived.
thread_local std::string t_route;
thread_local Clock::time_point t_start;

std::string dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// "[v0,v1,...]", each the shortest text that reads back as the same float (nlohmann would widen
// them to doubles first: 17 digits where 9 at most are needed).
void append_floats(std::string& out, const float* values, size_t n) {
  out += '[';
  char text[32];
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) out += ',';
    const auto written = std::to_chars(text, text + sizeof text, values[i]);
    out.append(text, written.ptr);
  }
  out += ']';
}

// {"<key>": <embeddings>, "dim": D, "model": "...", "checkpoint": "..."}
std::string embedding_response(const Embedder& embedder, const char* key,
                               const std::string& embeddings) {
  nlohmann::json rest;
  rest["dim"] = embedder.dim();
  rest["model"] = embedder.model_name();
  rest["checkpoint"] = embedder.checkpoint();
  const std::string tail = dump(rest);  // {"checkpoint":...,"dim":...,"model":...}
  return std::string("{\"") + key + "\":" + embeddings + "," + tail.substr(1);
}

std::string megabytes(double mb) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", mb);
  return text;
}

void json_error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(dump({{"error", message}}), "application/json");
}

// The image's (S, S, 3) pixels, or an error response (400; 503 when decoding ran out of memory).
// `what` names the image in messages.
bool prepare_image(const Embedder& embedder, std::string_view bytes, const std::string& what,
                   Tensor* out, httplib::Response& res) {
  if (bytes.empty()) {
    json_error(res, 400,
               what + " is empty: send one encoded image (JPEG, PNG, BMP, PPM/PGM, TIFF or WebP)");
    return false;
  }
  try {
    *out = embedder.prepare(bytes);
    return true;
  } catch (const data::DecodeOutOfMemory& e) {
    res.set_header("Retry-After", "1");
    json_error(res, 503, what + ": " + e.what());
  } catch (const std::exception& e) {
    json_error(res, 400, what + " is not an image Lumen can decode: " + e.what());
  }
  return false;
}

// The body parsed as strict JSON, or a 400 saying what to send (`shape`).
bool parse_json_body(const std::string& body, const char* shape, nlohmann::json* out,
                     httplib::Response& res) {
  try {
    *out = parse_strict_json(body);
    return true;
  } catch (const Error& e) {
    json_error(res, 400, std::string("the body is not JSON: ") + e.what() + "; send " + shape);
    return false;
  }
}

// A JSON string of base64 decoded and prepared as prepare_image does; `what` names it.
bool prepare_base64_image(const Embedder& embedder, const nlohmann::json& value,
                          const std::string& what, Tensor* out, httplib::Response& res) {
  if (!value.is_string()) {
    json_error(res, 400, what + " is not a string of base64");
    return false;
  }
  std::string bytes;
  try {
    bytes = base64_decode(value.get_ref<const std::string&>());
  } catch (const Error& e) {
    json_error(res, 400, what + " is not base64: " + e.what());
    return false;
  }
  return prepare_image(embedder, bytes, what, out, res);
}

}  // namespace

NeighborBank load_neighbor_bank(const std::string& csv_path, int64_t dim) {
  Embeddings e = load_embeddings_csv(csv_path);
  LUMEN_CHECK(e.values.size(0) > 0, "index=", csv_path, " holds no embeddings");
  LUMEN_CHECK(e.values.size(1) == dim, "index=", csv_path, " holds ", e.values.size(1),
              "-dimensional embeddings, but the model gives ", dim,
              "; write the index with lumen embed and the same checkpoint");
  NeighborBank bank;
  bank.filenames = std::move(e.filenames);
  bank.index = std::make_unique<CosineIndex>(e.values.to(DType::f32));
  return bank;
}

EmbedServer::EmbedServer(const Embedder& embedder, const ServerOptions& options,
                         const NeighborBank* bank)
    : embedder_(embedder),
      options_(options),
      bank_(bank),
      batcher_(embedder, options.batching, &metrics_),
      http_(std::make_unique<httplib::Server>()) {
  LUMEN_CHECK(options.max_body_mb > 0, "max_body_mb must be positive, got ", options.max_body_mb);
  LUMEN_CHECK(options.http_threads >= 1, "http_threads must be at least 1");
  install_routes();
}

EmbedServer::~EmbedServer() { stop(); }

void EmbedServer::install_routes() {
  httplib::Server& s = *http_;
  const int threads = options_.http_threads;
  s.new_task_queue = [threads] { return new httplib::ThreadPool(size_t(threads)); };
  s.set_tcp_nodelay(true);  // small responses must not wait for the client's delayed ACK
  s.set_keep_alive_max_count(1 << 20);
  s.set_payload_max_length(size_t(options_.max_body_mb * 1024 * 1024));

  s.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    t_start = Clock::now();
    const Route* route = find_route(req.path);
    t_route = route ? route->path : "other";
    if (route == nullptr) {
      json_error(res, 404,
                 "no route " + req.method + " " + req.path + "; the routes are " + kRouteList);
    } else if (req.method != route->method) {
      res.set_header("Allow", route->method);
      json_error(res, 405, req.method + " " + req.path + " is not served; use " + route->method);
    } else {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    // The body (if any) was not read: close the connection rather than parse it as a request.
    if (req.has_header("Content-Length") || req.has_header("Transfer-Encoding")) {
      res.set_header("Connection", "close");
    }
    return httplib::Server::HandlerResponse::Handled;
  });
  // Responses the library itself makes (413 past max_body_mb, 400 for malformed HTTP) get the
  // same JSON error body as ours.
  const double max_body_mb = options_.max_body_mb;
  s.set_error_handler(httplib::Server::HandlerWithResponse(
      [max_body_mb](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        if (res.status == 413) {
          json_error(res, 413,
                     "the request body is larger than max_body_mb=" + megabytes(max_body_mb) +
                         " MiB; send a smaller image or raise max_body_mb");
        } else {
          json_error(res, res.status,
                     "the request could not be served (HTTP " + std::to_string(res.status) +
                         "): malformed request line, headers or body");
        }
        return httplib::Server::HandlerResponse::Handled;
      }));
  s.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown error";
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        json_error(res, 500, "internal error: " + what);
      });
  s.set_logger([this](const httplib::Request&, const httplib::Response& res) {
    const double seconds =
        t_route.empty() ? 0.0 : std::chrono::duration<double>(Clock::now() - t_start).count();
    metrics_.record_request(t_route.empty() ? "other" : t_route, res.status, seconds);
    t_route.clear();
  });

  s.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok", "text/plain");
  });
  s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_.prometheus(batcher_.depth(), batcher_.capacity()),
                    "text/plain; version=0.0.4");
  });

  s.Post("/v1/embed", [this](const httplib::Request& req, httplib::Response& res) {
    Tensor image, rows;
    if (!prepare_image(embedder_, req.body, "the request body", &image, res)) return;
    if (!embed_rows({image}, res, &rows)) return;
    std::string values;
    append_floats(values, rows.data<float>(), size_t(rows.numel()));
    res.set_content(embedding_response(embedder_, "embedding", values), "application/json");
  });

  s.Post("/v1/embed_batch", [this](const httplib::Request& req, httplib::Response& res) {
    nlohmann::json body;
    if (!parse_json_body(req.body, R"({"images": ["<base64>", ...]})", &body, res)) return;
    if (!body.is_object() || !body.contains("images") || !body["images"].is_array()) {
      json_error(res, 400, R"(the body must be a JSON object {"images": ["<base64>", ...]})");
      return;
    }
    const nlohmann::json& list = body["images"];
    if (list.empty()) {
      json_error(res, 400, "\"images\" is empty: send at least one base64 image");
      return;
    }
    if (int64_t(list.size()) > batcher_.capacity()) {
      json_error(res, 413,
                 std::to_string(list.size()) +
                     " images in one request, more than the queue holds (" +
                     std::to_string(batcher_.capacity()) + ", max_queue); split the request");
      return;
    }
    std::vector<Tensor> images(list.size());
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string what = "images[" + std::to_string(i) + "]";
      if (!prepare_base64_image(embedder_, list[i], what, &images[i], res)) return;
    }
    Tensor rows;
    if (!embed_rows(std::move(images), res, &rows)) return;
    std::string values = "[";
    const size_t d = size_t(embedder_.dim());
    for (size_t i = 0; i < list.size(); ++i) {
      if (i > 0) values += ',';
      append_floats(values, rows.data<float>() + i * d, d);
    }
    values += ']';
    res.set_content(embedding_response(embedder_, "embeddings", values), "application/json");
  });
  install_neighbors_route();
}

bool EmbedServer::embed_rows(std::vector<Tensor> images, httplib::Response& res, Tensor* rows) {
  const int64_t n = int64_t(images.size());
  std::optional<std::future<Tensor>> done = batcher_.submit(std::move(images));
  if (!done) {
    res.set_header("Retry-After", "1");
    json_error(res, 503,
               stopping_ ? std::string("the server is stopping")
                         : "the queue is full (" + std::to_string(batcher_.depth()) + " of " +
                               std::to_string(batcher_.capacity()) + " images wait, " +
                               std::to_string(n) + " more asked); retry after a second");
    return false;
  }
  try {
    *rows = done->get();
    return true;
  } catch (const std::exception& e) {
    json_error(res, 500, std::string("the forward pass failed: ") + e.what());
    return false;
  }
}

void EmbedServer::install_neighbors_route() {
  http_->Post("/v1/neighbors", [this](const httplib::Request& req, httplib::Response& res) {
    if (bank_ == nullptr) {
      json_error(res, 404,
                 "no index is loaded: start lumen serve with index=embeddings.csv (lumen embed's "
                 "output for the same checkpoint)");
      return;
    }
    const int64_t bank_rows = bank_->index->size();
    std::string k_text = req.get_param_value("k");
    Tensor query;  // (1, D) f32
    const std::string type = req.get_header_value("Content-Type");
    if (type.rfind("application/json", 0) == 0) {
      nlohmann::json body;
      if (!parse_json_body(req.body,
                           R"({"image": "<base64>"} or {"embedding": [...]}, optionally "k")",
                           &body, res)) {
        return;
      }
      const bool has_image = body.is_object() && body.contains("image");
      const bool has_embedding = body.is_object() && body.contains("embedding");
      if (has_image == has_embedding) {
        json_error(res, 400,
                   R"(the body must be a JSON object with one of "image" (base64) or "embedding")"
                   R"( (a list of numbers), and optionally "k")");
        return;
      }
      if (body.contains("k")) {
        if (!body["k"].is_number_integer()) {
          json_error(res, 400, "\"k\" must be an integer");
          return;
        }
        k_text = std::to_string(body["k"].get<int64_t>());
      }
      if (has_embedding) {
        const nlohmann::json& e = body["embedding"];
        const int64_t d = embedder_.dim();
        if (!e.is_array() || int64_t(e.size()) != d) {
          json_error(res, 400,
                     "\"embedding\" must be a list of " + std::to_string(d) +
                         " numbers (the model's dimension)");
          return;
        }
        std::vector<float> values(static_cast<size_t>(d));
        for (size_t i = 0; i < values.size(); ++i) {
          if (!e[i].is_number() || !std::isfinite(e[i].get<double>())) {
            json_error(res, 400, "embedding[" + std::to_string(i) + "] is not a finite number");
            return;
          }
          values[i] = e[i].get<float>();
        }
        query = Tensor::from_vector(values, {1, d});
      } else {
        Tensor image;
        if (!prepare_base64_image(embedder_, body["image"], "\"image\"", &image, res)) return;
        if (!embed_rows({image}, res, &query)) return;
      }
    } else {
      Tensor image;
      if (!prepare_image(embedder_, req.body, "the request body", &image, res)) return;
      if (!embed_rows({image}, res, &query)) return;
    }
    int64_t k = 10;
    if (!k_text.empty()) {
      const char* end = k_text.data() + k_text.size();
      const auto parsed = std::from_chars(k_text.data(), end, k);
      if (parsed.ec != std::errc() || parsed.ptr != end || k < 1) {
        json_error(res, 400, "k=" + k_text + " is not a positive integer");
        return;
      }
    }
    k = std::min(k, bank_rows);
    const Neighbors found = bank_->index->search(query, k);
    const int64_t* rows = found.indices.data<int64_t>();
    const Tensor similarities = found.similarities.to(DType::f32);
    const float* sims = similarities.data<float>();
    std::string out = "{\"neighbors\":[";
    char text[32];
    for (int64_t i = 0; i < k; ++i) {
      if (i > 0) out += ',';
      const auto written = std::to_chars(text, text + sizeof text, sims[i]);
      out += "{\"filename\":" + dump(bank_->filenames[size_t(rows[i])]) +
             ",\"similarity\":" + std::string(text, written.ptr) + "}";
    }
    out += "],\"k\":" + std::to_string(k) + ",\"bank\":" + std::to_string(bank_rows) + "}";
    res.set_content(out, "application/json");
  });
}

int EmbedServer::bind() {
  port_ = options_.port == 0
              ? http_->bind_to_any_port(options_.host)
              : (http_->bind_to_port(options_.host, options_.port) ? options_.port : -1);
  LUMEN_CHECK(port_ > 0, "cannot listen on ", options_.host, ":", options_.port,
              " (address in use, not this machine's, or not permitted); pass another port= or "
              "host=, or port=0 for any free port");
  return port_;
}

void EmbedServer::run() {
  LUMEN_CHECK(port_ > 0, "EmbedServer::run before bind");
  started_ = true;
  if (!stopping_) http_->listen_after_bind();
  // No more requests: the images still queued are embedded and their requests answered (the
  // handlers waiting on them have returned by now: listen_after_bind joins its threads).
  batcher_.stop();
  finished_ = true;
}

void EmbedServer::stop() {
  stopping_ = true;
  batcher_.hurry();       // the requests in flight are answered without waiting for max_delay
  if (!started_) return;  // run() will not listen
  // run() may not have reached its accept loop yet; the library's stop() needs it running.
  while (!http_->is_running() && !finished_)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  http_->stop();
}

}  // namespace lumen::serve
