// lumen report in a real browser: headless Chromium (Debian's chromium) opens the page from disk
// with no network, and it must load without a console message or script error, draw every point
// of the map with its thumbnail, open a point's nearest neighbours (report.html#show=I runs the
// click's code), and a screenshot is written under the build tree (LUMEN_TEST_OUTPUT_DIR). Exits
// 77 (skipped) where chromium is not installed.
#define DOCTEST_CONFIG_IMPLEMENT
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "engine/search/cosine_index.h"
#include "support/report_cases.h"
#include "support/testing.h"

using namespace lumen;

namespace {

std::string chromium() {
  if (const char* env = std::getenv("LUMEN_CHROMIUM")) return env;
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
    if (std::filesystem::exists(p)) return p;
  }
  return "";
}

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs chromium headless on url with `mode` (--dump-dom, --screenshot=...), output to out_path,
// its log (console messages included) to log_path. Returns the exit status.
int run_chromium(const std::string& mode, const std::string& url, const std::string& out_path,
                 const std::string& log_path) {
  const std::string cmd = "timeout 120 " + chromium() +
                          " --headless --no-sandbox --disable-gpu --no-first-run "
                          "--disable-extensions --enable-logging=stderr --v=0 "
                          "--virtual-time-budget=5000 --window-size=1400,1900 " +
                          mode + " '" + url + "' > '" + out_path + "' 2> '" + log_path + "'";
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string attribute(const std::string& body, const std::string& name) {
  const std::regex re(name + "=\"([^\"]*)\"");
  std::smatch m;
  return std::regex_search(body, m, re) ? m[1].str() : "";
}

}  // namespace

TEST_CASE(
    "the report loads in Chromium: no console messages, every point, neighbours, screenshot") {
  testing::ReportCase rc;
  testing::make_report_case(rc, 60);
  const std::string page = rc.dir / "report.html";
  const std::string cmd = std::string(LUMEN_CLI_PATH) + " report run_dir=" + rc.run_dir +
                          " embeddings=" + rc.embeddings + " selected=" + rc.selected +
                          " input_dir=" + rc.images + " neighbors=6 output=" + page + " 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);

  const std::string dom = rc.dir / "dom.html", log = rc.dir / "chromium.log";
  REQUIRE(run_chromium("--dump-dom", "file://" + page + "#show=9", dom, log) == 0);
  const std::string html = read_all(dom), messages = read_all(log);
  INFO(messages);
  // The page logs nothing; Chromium writes every console message and uncaught error as CONSOLE.
  CHECK(messages.find(":CONSOLE") == std::string::npos);
  std::smatch m;
  REQUIRE(std::regex_search(html, m, std::regex("<body[^>]*>")));
  const std::string body = m[0].str();
  INFO(body);
  CHECK(attribute(body, "data-ready") == "1");
  CHECK(attribute(body, "data-errors") == "0");
  CHECK(attribute(body, "data-expected-points") == "60");
  CHECK(attribute(body, "data-map-points") == "60");
  CHECK(attribute(body, "data-thumbnails") == "60");
  CHECK(attribute(body, "data-shown") == "9");
  // The neighbours listed for point 9 are the index's.
  std::vector<int64_t> own(60);
  for (int64_t i = 0; i < 60; ++i) own[size_t(i)] = i;
  const Neighbors expected = CosineIndex(rc.e.values).search(rc.e.values, 6, own);
  std::vector<std::string> listed;
  const std::regex item("<li class=\"nb\" data-point=\"(\\d+)\"");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), item); it != std::sregex_iterator();
       ++it) {
    listed.push_back((*it)[1].str());
  }
  REQUIRE(listed.size() == 6);
  for (int64_t j = 0; j < 6; ++j) {
    CHECK(listed[size_t(j)] == std::to_string(expected.indices.data<int64_t>()[9 * 6 + j]));
  }

  const std::string folder = LUMEN_TEST_OUTPUT_DIR;
  std::filesystem::create_directories(folder);
  const std::string shot = folder + "/report.png";
  std::filesystem::remove(shot);
  REQUIRE(run_chromium("--screenshot=" + shot, "file://" + page + "#show=9", rc.dir / "shot.out",
                       log) == 0);
  const std::string png = read_all(shot);
  REQUIRE(png.size() > 10000);
  CHECK(png.compare(1, 3, "PNG") == 0);
  std::printf("screenshot: %s\n", shot.c_str());
}

int main(int argc, char** argv) {
  if (chromium().empty()) {
    return testing::skip_suite(
        "chromium is not installed (apt-get install chromium; tools/setup.sh)");
  }
  doctest::Context context(argc, argv);
  return context.run();
}
