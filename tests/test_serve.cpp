// `lumen serve` as a client sees it: the program started on an ephemeral port of 127.0.0.1 and
// talked to through a real HTTP client (cpp-httplib's). Embeddings equal `lumen embed`'s; every
// bad request gets its status and a JSON error naming the problem, and the server answers the next
// good one; a full queue answers 503 with Retry-After; SIGTERM lets the requests in flight finish
// and the process exit 0.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/testing.h"

#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <future>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "engine/io/embeddings_csv.h"
#include "support/images.h"
#include "tools/serve/base64.h"
#include "tools/serve/server.h"

using namespace lumen;

namespace {

const std::vector<std::string> kModel = {"model.name=resnet-9", "model.width=0.25",
                                         "collate.input_size=32", "device=cpu", "seed=3"};

// `lumen serve <args> port=0`, running; the port read from its first line.
class ServerProcess {
 public:
  explicit ServerProcess(const std::vector<std::string>& extra) {
    std::vector<std::string> args = {LUMEN_CLI_PATH, "serve", "port=0"};
    args.insert(args.end(), kModel.begin(), kModel.end());
    args.insert(args.end(), extra.begin(), extra.end());
    int out[2];
    REQUIRE(pipe(out) == 0);
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      dup2(out[1], 1);
      close(out[0]);
      close(out[1]);
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(out[1]);
    stdout_ = fdopen(out[0], "r");
    char line[4096];
    while (std::fgets(line, sizeof line, stdout_) != nullptr) {
      const std::string text = line;
      const size_t at = text.find("listening on http://127.0.0.1:");
      if (at != std::string::npos) {
        port_ = std::stoi(text.substr(at + 30));
        break;
      }
    }
    REQUIRE_MESSAGE(port_ > 0, "lumen serve did not say where it listens");
  }
  ~ServerProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (stdout_) std::fclose(stdout_);
  }
  int port() const { return port_; }
  // SIGTERM, then the exit code (-1 if it did not exit normally within 30 s).
  int terminate() {
    kill(pid_, SIGTERM);
    for (int i = 0; i < 3000; ++i) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(60, 0);
    return c;
  }

 private:
  pid_t pid_ = -1;
  FILE* stdout_ = nullptr;
  int port_ = -1;
};

std::string file_text(const std::vector<uint8_t>& bytes) { return {bytes.begin(), bytes.end()}; }

// Three images of other sizes and formats, in a folder.
std::map<std::string, std::string> write_images(const std::string& folder) {
  std::map<std::string, std::string> images;
  images["a.png"] = file_text(testing::encode_png(40, 30, 2, 8, testing::smooth_rgb(40, 30, 1)));
  images["b.jpg"] = file_text(testing::encode_jpeg_rgb(33, 51, testing::smooth_rgb(33, 51, 2)));
  images["c.bmp"] = file_text(testing::encode_bmp(32, 32, testing::smooth_rgb(32, 32, 3)));
  for (const auto& [name, bytes] : images) {
    testing::write_file(folder + "/" + name, std::vector<uint8_t>(bytes.begin(), bytes.end()));
  }
  return images;
}

Tensor row_of(const nlohmann::json& values) {
  const std::vector<float> v = values.get<std::vector<float>>();
  return Tensor::from_vector(v, {1, int64_t(v.size())});
}

// POSTs one image, expecting 200.
nlohmann::json embed_one(httplib::Client& c, const std::string& image) {
  auto r = c.Post("/v1/embed", image, "application/octet-stream");
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == 200);
  return nlohmann::json::parse(r->body);
}

}  // namespace

TEST_CASE("served embeddings equal lumen embed's, one image or a batch in order") {
  testing::TempDir dir;
  const std::map<std::string, std::string> images = write_images(dir / "images");
  std::string embed = std::string(LUMEN_CLI_PATH) + " embed input_dir=" + dir / "images" +
                      " output=" + dir / "e.csv";
  for (const std::string& a : kModel) embed += " " + a;
  REQUIRE(std::system((embed + " > /dev/null 2>&1").c_str()) == 0);
  const Embeddings expected = load_embeddings_csv(dir / "e.csv");
  auto expected_row = [&](const std::string& name) {
    for (size_t i = 0; i < expected.filenames.size(); ++i) {
      if (expected.filenames[i] == name) return expected.values.rows(int64_t(i), 1);
    }
    FAIL("lumen embed wrote no row for ", name);
    return Tensor();
  };

  ServerProcess server({"max_batch=4", "max_delay_ms=5"});
  httplib::Client c = server.client();
  auto health = c.Get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
  CHECK(health->body == "ok");
  for (const auto& [name, bytes] : images) {
    CAPTURE(name);
    const nlohmann::json j = embed_one(c, bytes);
    CHECK(j["dim"] == 128);
    CHECK(j["model"] == "resnet-9");
    CHECK(j["checkpoint"] == "");
    testing::check_scaled(row_of(j["embedding"]), expected_row(name), 1e-5, name);
  }
  // A batch, in the order given (not the folder's).
  const std::vector<std::string> order = {"c.bmp", "a.png", "b.jpg", "a.png"};
  nlohmann::json body;
  for (const std::string& name : order)
    body["images"].push_back(serve::base64_encode(images.at(name)));
  auto r = c.Post("/v1/embed_batch", body.dump(), "application/json");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  const nlohmann::json j = nlohmann::json::parse(r->body);
  REQUIRE(j["embeddings"].size() == order.size());
  CHECK(j["dim"] == 128);
  for (size_t i = 0; i < order.size(); ++i) {
    CAPTURE(i);
    testing::check_scaled(row_of(j["embeddings"][i]), expected_row(order[i]), 1e-5, order[i]);
  }
  // Many clients at once: every answer is its own image's.
  std::vector<std::future<nlohmann::json>> answers;
  for (int i = 0; i < 12; ++i) {
    answers.push_back(std::async(std::launch::async, [&, i] {
      httplib::Client mine = server.client();
      return embed_one(mine, images.at(order[size_t(i) % order.size()]));
    }));
  }
  for (size_t i = 0; i < answers.size(); ++i) {
    testing::check_scaled(row_of(answers[i].get()["embedding"]), expected_row(order[i % 4]), 1e-5,
                          "concurrent");
  }
  auto metrics = c.Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->status == 200);
  for (const char* line :
       {"lumen_http_requests_total{route=\"/v1/embed\",status=\"200\"} 15",
        "lumen_http_requests_total{route=\"/v1/embed_batch\",status=\"200\"} 1",
        "lumen_http_request_duration_seconds_bucket{route=\"/v1/embed\",le=\"+Inf\"} 15",
        "# TYPE lumen_batch_size histogram", "lumen_queue_depth 0", "lumen_queue_capacity 256"}) {
    CHECK_MESSAGE(metrics->body.find(line) != std::string::npos, line);
  }
  CHECK(server.terminate() == 0);
}

TEST_CASE("POST /v1/neighbors searches the index= embeddings by cosine similarity") {
  testing::TempDir dir;
  const std::map<std::string, std::string> images = write_images(dir / "images");
  std::string embed = std::string(LUMEN_CLI_PATH) + " embed input_dir=" + dir / "images" +
                      " output=" + dir / "e.csv";
  for (const std::string& a : kModel) embed += " " + a;
  REQUIRE(std::system((embed + " > /dev/null 2>&1").c_str()) == 0);
  const Embeddings bank = load_embeddings_csv(dir / "e.csv");
  // The bank rows by cosine similarity to row `q`, most similar first.
  auto ranked = [&](int64_t q) {
    const int64_t n = bank.values.size(0), d = bank.values.size(1);
    const std::vector<double> v = bank.values.to_doubles();
    std::vector<std::pair<double, std::string>> out;
    for (int64_t i = 0; i < n; ++i) {
      double dot = 0, qq = 0, ii = 0;
      for (int64_t j = 0; j < d; ++j) {
        dot += v[size_t(q * d + j)] * v[size_t(i * d + j)];
        qq += v[size_t(q * d + j)] * v[size_t(q * d + j)];
        ii += v[size_t(i * d + j)] * v[size_t(i * d + j)];
      }
      out.emplace_back(dot / std::sqrt(qq * ii), bank.filenames[size_t(i)]);
    }
    std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.first > b.first; });
    return out;
  };
  auto check_answer = [&](const httplib::Result& r, int64_t q, size_t k) {
    REQUIRE(r);
    INFO(r->body);
    REQUIRE(r->status == 200);
    const nlohmann::json j = nlohmann::json::parse(r->body);
    CHECK(j["k"] == k);
    CHECK(j["bank"] == bank.filenames.size());
    const auto expected = ranked(q);
    REQUIRE(j["neighbors"].size() == k);
    for (size_t i = 0; i < k; ++i) {
      CAPTURE(i);
      CHECK(j["neighbors"][i]["filename"] == expected[i].second);
      CHECK(j["neighbors"][i]["similarity"].get<double>() ==
            doctest::Approx(expected[i].first).epsilon(1e-5));
    }
  };

  ServerProcess server({"index=" + dir / "e.csv"});
  httplib::Client c = server.client();
  for (int64_t q = 0; q < int64_t(bank.filenames.size()); ++q) {
    const std::string& name = bank.filenames[size_t(q)];
    CAPTURE(name);
    // An image of the bank finds itself first (similarity 1), then the others in order.
    check_answer(c.Post("/v1/neighbors?k=3", images.at(name), "image/png"), q, 3);
    nlohmann::json body = {{"image", serve::base64_encode(images.at(name))}, {"k", 2}};
    check_answer(c.Post("/v1/neighbors", body.dump(), "application/json"), q, 2);
    const std::vector<double> row = bank.values.rows(q, 1).to_doubles();
    body = {{"embedding", row}};
    check_answer(c.Post("/v1/neighbors", body.dump(), "application/json"), q, 3);  // k 10 -> 3
  }
  const std::vector<std::pair<std::string, std::string>> bad = {
      {R"({"embedding": [1, 2]})", "list of 128 numbers"},
      {R"({"embedding": [1], "image": "AA=="})", "one of \"image\""},
      {R"({"image": "%%%"})", "not base64"},
      {R"({"image": "aGVsbG8=", "k": 2})", "not an image"},
      {R"({"embedding": [], "k": "3"})", "\"k\" must be an integer"},
      {"{", "not JSON"}};
  for (const auto& [text, message] : bad) {
    CAPTURE(text);
    auto r = c.Post("/v1/neighbors", text, "application/json");
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(nlohmann::json::parse(r->body)["error"].get<std::string>().find(message) !=
          std::string::npos);
  }
  auto r = c.Post("/v1/neighbors?k=0", images.at("a.png"), "image/png");
  REQUIRE(r);
  CHECK(r->status == 400);
  CHECK(r->body.find("k=0 is not a positive integer") != std::string::npos);
  check_answer(c.Post("/v1/neighbors?k=1", images.at("a.png"), "image/png"), 0, 1);
  CHECK(server.terminate() == 0);

  // Without an index the route says how to load one; an index of another dimension is refused.
  ServerProcess plain({});
  httplib::Client p = plain.client();
  r = p.Post("/v1/neighbors", images.at("a.png"), "image/png");
  REQUIRE(r);
  CHECK(r->status == 404);
  CHECK(r->body.find("index=embeddings.csv") != std::string::npos);
  CHECK(plain.terminate() == 0);
  CHECK_THROWS_WITH_AS(
      serve::load_neighbor_bank(dir / "e.csv", 64),
      doctest::Contains("holds 128-dimensional embeddings, but the model gives 64"), Error);
}

TEST_CASE("every bad request gets its status and a JSON error, and the next request is served") {
  testing::TempDir dir;
  const std::map<std::string, std::string> images = write_images(dir / "images");
  const std::string good = images.at("a.png");
  ServerProcess server({"max_body_mb=1", "max_queue=8"});
  httplib::Client c = server.client();
  // A PNG header that claims 100000 x 100000 pixels: refused by the decode limits unread.
  std::string huge = good;
  const uint32_t side = 100000;
  for (int at : {16, 20}) {
    for (int b = 0; b < 4; ++b) huge[size_t(at + b)] = char((side >> (24 - 8 * b)) & 0xff);
  }
  auto batch_of = [](const nlohmann::json& images) {
    return nlohmann::json{{"images", images}}.dump();
  };
  struct Bad {
    const char* method;
    const char* path;
    std::string body;
    int status;
    std::string says;
  };
  const std::vector<Bad> bad = {
      {"POST", "/v1/embed", "", 400, "the request body is empty"},
      {"POST", "/v1/embed", "hello, world", 400, "it looks like a text file"},
      {"POST", "/v1/embed", good.substr(0, good.size() / 2), 400, "not an image Lumen can decode"},
      {"POST", "/v1/embed", huge, 400, "image too large: 100000x100000"},
      {"POST", "/v1/embed", std::string(1536 * 1024, 'x'), 413, "larger than max_body_mb=1"},
      {"GET", "/v1/embed", "", 405, "GET /v1/embed is not served; use POST"},
      {"POST", "/healthz", "x", 405, "use GET"},
      {"GET", "/v2/embed", "", 404, "no route GET /v2/embed"},
      {"POST", "/v1/embed_batch", "{\"images\": [", 400, "the body is not JSON"},
      {"POST", "/v1/embed_batch", std::string(200, '[') + std::string(200, ']'), 400,
       "nested deeper than 64"},
      {"POST", "/v1/embed_batch", "{\"images\": \"a.png\"}", 400, "must be a JSON object"},
      {"POST", "/v1/embed_batch", batch_of(nlohmann::json::array()), 400, "\"images\" is empty"},
      {"POST", "/v1/embed_batch", batch_of({1}), 400, "images[0] is not a string of base64"},
      {"POST", "/v1/embed_batch", batch_of({"!!!!"}), 400, "images[0] is not base64"},
      {"POST", "/v1/embed_batch", batch_of({serve::base64_encode(good), "aGVsbG8="}), 400,
       "images[1] is not an image"},
      {"POST", "/v1/embed_batch", batch_of(std::vector<std::string>(9, "aGVsbG8=")), 413,
       "9 images in one request"},
  };
  for (const Bad& b : bad) {
    CAPTURE(b.method);
    CAPTURE(b.path);
    CAPTURE(b.says);
    auto r = std::string(b.method) == "GET" ? c.Get(b.path)
                                            : c.Post(b.path, b.body, "application/octet-stream");
    REQUIRE(r);
    CHECK(r->status == b.status);
    INFO(r->body);
    CHECK(r->get_header_value("Content-Type") == "application/json");
    const nlohmann::json j = nlohmann::json::parse(r->body);
    CHECK(j["error"].get<std::string>().find(b.says) != std::string::npos);
    if (b.status == 405) CHECK(r->has_header("Allow"));
    // The server keeps serving.
    CHECK(embed_one(c, good)["dim"] == 128);
  }
  auto metrics = c.Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->body.find("lumen_http_errors_total{route=\"/v1/embed\",status=\"400\"} 4") !=
        std::string::npos);
  CHECK(metrics->body.find("lumen_http_errors_total{route=\"other\",status=\"404\"} 1") !=
        std::string::npos);
  CHECK(server.terminate() == 0);
}

TEST_CASE("a full queue answers 503 with Retry-After, then serves again") {
  testing::TempDir dir;
  const std::string good = write_images(dir / "images").at("a.png");
  // Two images fill the queue; they wait up to 4 s for a batch of 8 that never fills.
  ServerProcess server({"max_queue=2", "max_batch=8", "max_delay_ms=4000"});
  std::vector<std::future<int>> waiting;
  for (int i = 0; i < 2; ++i) {
    waiting.push_back(std::async(std::launch::async, [&] {
      httplib::Client mine = server.client();
      auto r = mine.Post("/v1/embed", good, "image/png");
      return r ? r->status : -1;
    }));
  }
  httplib::Client c = server.client();
  // Until both wait in the queue.
  for (int i = 0; i < 500; ++i) {
    auto m = c.Get("/metrics");
    if (m && m->body.find("lumen_queue_depth 2") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  auto full = c.Post("/v1/embed", good, "image/png");
  REQUIRE(full);
  CHECK(full->status == 503);
  CHECK(full->get_header_value("Retry-After") == "1");
  CHECK(full->body.find("the queue is full") != std::string::npos);
  for (auto& w : waiting) CHECK(w.get() == 200);
  CHECK(embed_one(c, good)["dim"] == 128);
  CHECK(server.terminate() == 0);
}

TEST_CASE("SIGTERM stops accepting, answers the requests in flight and exits 0") {
  testing::TempDir dir;
  const std::string good = write_images(dir / "images").at("b.jpg");
  // Requests wait up to 30 s for a batch of 16: only the shutdown sends them on.
  ServerProcess server({"max_batch=16", "max_delay_ms=30000"});
  std::vector<std::future<int>> in_flight;
  for (int i = 0; i < 4; ++i) {
    in_flight.push_back(std::async(std::launch::async, [&] {
      httplib::Client mine = server.client();
      auto r = mine.Post("/v1/embed", good, "image/jpeg");
      return r ? r->status : -1;
    }));
  }
  {
    httplib::Client c = server.client();
    c.set_keep_alive(false);
    bool queued = false;
    for (int i = 0; i < 1000 && !queued; ++i) {
      auto m = c.Get("/metrics");
      queued = m && m->body.find("lumen_queue_depth 4") != std::string::npos;
      if (!queued) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    REQUIRE(queued);
  }
  const auto start = std::chrono::steady_clock::now();
  CHECK(server.terminate() == 0);
  // Drained at once, not after max_delay_ms.
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(20));
  for (auto& f : in_flight) CHECK(f.get() == 200);
  httplib::Client after = server.client();
  after.set_connection_timeout(2, 0);
  CHECK_FALSE(after.Get("/healthz"));  // nobody listens any more
}
