// lumen report without a browser: the page's data (curves, map, labels, selection, neighbours,
// thumbnails), that it loads nothing from elsewhere, PCA (engine/eval/pca.h) on data of known
// axes, JPEG thumbnails (engine/data/image_encode.h) and the errors. The page in a real browser is
// test_report_browser.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "api/report.h"
#include "engine/data/image_decode.h"
#include "engine/data/image_encode.h"
#include "engine/eval/pca.h"
#include "engine/search/cosine_index.h"
#include "support/images.h"
#include "support/report_cases.h"
#include "support/testing.h"

using namespace lumen;
using nlohmann::json;

namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("pca: the axes and variances of data built on known directions") {
  // x = 3 a u + 1 b v + 0.01 noise, a and b standard normal, u and v orthonormal in 6 dims.
  const int64_t n = 4000;
  const std::vector<double> a = Tensor::normal({n}, 1, 0, 1, DType::f64).to_doubles();
  const std::vector<double> b = Tensor::normal({n}, 2, 0, 1, DType::f64).to_doubles();
  const std::vector<double> noise = Tensor::normal({n, 6}, 3, 0, 0.01, DType::f64).to_doubles();
  const double s = 1 / std::sqrt(2.0);
  const std::vector<double> u{s, s, 0, 0, 0, 0}, v{0, 0, -0.6, 0.8, 0, 0};
  std::vector<double> x(size_t(n * 6));
  for (int64_t i = 0; i < n; ++i) {
    for (int j = 0; j < 6; ++j) {
      x[size_t(i * 6 + j)] = 5 + 3 * a[size_t(i)] * u[size_t(j)] + b[size_t(i)] * v[size_t(j)] +
                             noise[size_t(i * 6 + j)];
    }
  }
  const Pca p = pca(Tensor::from_vector(x, {n, 6}, DType::f64), 2);
  // Directions up to sign (fixed: the largest coefficient positive), variance shares 9:1.
  for (int j = 0; j < 6; ++j) {
    CHECK(p.axes[0][size_t(j)] == doctest::Approx(u[size_t(j)]).epsilon(0.01).scale(1));
    CHECK(p.axes[1][size_t(j)] == doctest::Approx(v[size_t(j)]).epsilon(0.01).scale(1));
  }
  CHECK(p.explained[0] / p.explained[1] == doctest::Approx(9.0).epsilon(0.1));
  CHECK(p.explained[0] + p.explained[1] > 0.999);
  // The projection is the centred data on the axes: first coordinate ~ 3 a.
  const std::vector<double> xy = p.projection.to_doubles();
  double worst = 0;
  for (int64_t i = 0; i < n; i += 37)
    worst = std::max(worst, std::fabs(xy[size_t(i * 2)] - 3 * a[size_t(i)]));
  CHECK(worst < 0.1);
  CHECK_THROWS_WITH_AS(pca(Tensor::zeros({1, 3})), doctest::Contains("N >= 2"), Error);
}

TEST_CASE("encode_jpeg: a JPEG that decodes to the same picture") {
  const std::vector<uint8_t> rgb = testing::smooth_rgb(48, 40, 3);
  const std::vector<uint8_t> jpeg = data::encode_jpeg(rgb.data(), 48, 40, 90);
  REQUIRE(jpeg.size() > 100);
  CHECK(jpeg[0] == 0xFF);
  CHECK(jpeg[1] == 0xD8);
  const data::RgbImage back = data::decode_image(jpeg.data(), jpeg.size());
  CHECK(back.width == 48);
  CHECK(back.height == 40);
  double err = 0;
  for (size_t i = 0; i < rgb.size(); ++i) err += std::fabs(double(back.pixels[i]) - double(rgb[i]));
  CHECK(err / double(rgb.size()) < 4);
}

TEST_CASE("write_report: curves, the map with every point, selection, neighbours, thumbnails") {
  testing::ReportCase rc;
  testing::make_report_case(rc, 40);
  const std::string out = rc.dir / "report.html";
  const Config c = report_config({"run_dir=" + rc.run_dir, "embeddings=" + rc.embeddings,
                                  "selected=" + rc.selected, "input_dir=" + rc.images,
                                  "neighbors=5", "output=" + out});
  const ReportSummary s = write_report(c);
  CHECK(s.metric_lines == 6);
  CHECK(s.skipped_lines == 1);
  CHECK(s.points == 40);
  CHECK(s.thumbnails == 40);
  CHECK(s.selected == 6);
  CHECK(s.selected_found == 6);
  const std::string html = read_all(out);
  CHECK(s.bytes == html.size());
  // Nothing is fetched: no external scripts, styles, links or URLs in attributes.
  for (const char* outside :
       {"src=\"http", "href=\"http", "<link", "@import", "url(http", "<script src"}) {
    CHECK_MESSAGE(html.find(outside) == std::string::npos, outside);
  }
  CHECK(html.find("Chart.js") != std::string::npos);
  const json data = json::parse(testing::report_data(html));
  CHECK(data["curves"]["epoch"] == json({1, 2, 3}));
  CHECK(data["curves"]["loss"] == json({4.5, 4.1, nullptr}));
  CHECK(data["curves"]["lr"] == json({0.06, 0.03, 0.001}));
  CHECK(data["curves"]["knn_top1"] == json({0.4, 0.6, 0.7}));
  const json& m = data["map"];
  REQUIRE(m["x"].size() == 40);
  CHECK(m["total"] == 40);
  CHECK(m["k"] == 5);
  CHECK(data["thumbs"].size() == 40);
  CHECK(data["labels"] == json::parse(R"([{"id":0,"name":"c0"},{"id":1,"name":"c1"},
                                           {"id":2,"name":"c2"},{"id":3,"name":"c3"}])"));
  // Every point is its embedding, with its label, its selection flag and its neighbours.
  std::vector<int64_t> own(40);
  for (int64_t i = 0; i < 40; ++i) own[size_t(i)] = i;
  const Neighbors nn = CosineIndex(rc.e.values).search(rc.e.values, 5, own);
  const Pca p = pca(rc.e.values, 2);
  for (int64_t i = 0; i < 40; ++i) {
    CHECK(m["name"][size_t(i)] == rc.e.filenames[size_t(i)]);
    CHECK(m["label"][size_t(i)] == i % 4);
    CHECK(m["selected"][size_t(i)] == (i % 7 == 0 ? 1 : 0));
    CHECK(m["x"][size_t(i)].get<double>() ==
          doctest::Approx(p.projection.to_doubles()[size_t(i * 2)]).epsilon(1e-4));
    for (int64_t j = 0; j < 5; ++j) {
      CHECK(m["neighbors"][size_t(i * 5 + j)] == nn.indices.data<int64_t>()[i * 5 + j]);
    }
  }
  // A thumbnail is the image through Lumen's data path: a 64 x 64 JPEG.
  const std::string t = data["thumbs"][0].get<std::string>();
  CHECK(t.rfind("/9j/", 0) == 0);  // base64 of FF D8 FF
}

TEST_CASE("write_report: a sample of points keeps every selected one; input_dir from the run") {
  testing::ReportCase rc;
  testing::make_report_case(rc, 40);
  const std::string out = rc.dir / "report.html";
  const ReportSummary s =
      write_report(report_config({"run_dir=" + rc.run_dir, "embeddings=" + rc.embeddings,
                                  "selected=" + rc.selected, "max_points=10", "output=" + out}));
  CHECK(s.points == 10);
  CHECK(s.thumbnails == 0);  // the run has no checkpoint, so no input_dir is known
  const json data = json::parse(testing::report_data(read_all(out)));
  int selected = 0;
  for (const auto& f : data["map"]["selected"]) selected += f.get<int>();
  CHECK(selected == 6);
  // Without embeddings: the curves only.
  write_report(report_config({"run_dir=" + rc.run_dir, "output=" + out}));
  CHECK(json::parse(testing::report_data(read_all(out))).contains("map") == false);
}

TEST_CASE("write_report: names that would end the script stay inside it; clear errors") {
  testing::ReportCase rc;
  testing::make_report_case(rc, 8);
  rc.e.filenames[2] = "c2/</script><b>x.png";
  save_embeddings_csv(rc.embeddings, rc.e);
  const std::string out = rc.dir / "report.html";
  write_report(
      report_config({"run_dir=" + rc.run_dir, "embeddings=" + rc.embeddings, "output=" + out}));
  const json data = json::parse(testing::report_data(read_all(out)));
  CHECK(data["map"]["name"][2] == "c2/</script><b>x.png");
  CHECK_THROWS_WITH_AS(write_report(report_config({"run_dir=" + rc.dir.path(), "output=" + out})),
                       doctest::Contains("has no readable metrics.jsonl"), Error);
  CHECK_THROWS_WITH_AS(
      write_report(report_config(
          {"run_dir=" + rc.run_dir, "chartjs=/nonexistent/chart.js", "output=" + out})),
      doctest::Contains("install Debian's libjs-chart.js"), Error);
  CHECK_THROWS_WITH_AS(write_report(report_config(
                           {"run_dir=" + rc.run_dir, "selected=" + rc.selected, "output=" + out})),
                       doctest::Contains("pass the embeddings too"), Error);
}
