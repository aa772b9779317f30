#include "support/report_cases.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "support/search_cases.h"

namespace lumen::testing {

void make_report_case(ReportCase& c, int64_t n) {
  c.images = c.dir / "images";
  c.run_dir = c.dir / "run";
  c.embeddings = c.dir / "embeddings.csv";
  c.selected = c.dir / "selected.txt";
  std::filesystem::create_directories(c.run_dir);
  c.e.values = random_rows(n, 16, 41, 4, 0.3);
  for (int64_t i = 0; i < n; ++i) {
    const std::string name =
        "c" + std::to_string(i % 4) + "/img" + std::to_string(i) + (i % 2 ? ".png" : ".jpg");
    const std::vector<uint8_t> rgb = smooth_rgb(40 + int(i % 3) * 8, 32, int(i));
    const int w = 40 + int(i % 3) * 8;
    write_file(c.images + "/" + name,
               i % 2 ? encode_png(w, 32, 2, 8, rgb) : encode_jpeg_rgb(w, 32, rgb));
    c.e.filenames.push_back(name);
    c.e.labels.push_back(i % 4);
    if (i % 7 == 0) c.selection.push_back(name);
  }
  save_embeddings_csv(c.embeddings, c.e);
  std::ofstream(c.selected) << [&] {
    std::string s;
    for (const std::string& name : c.selection) s += name + "\n";
    return s;
  }();
  std::ofstream metrics(c.run_dir + "/metrics.jsonl");
  metrics << "{\"epoch\": 1, \"img_per_s\": 455.5, \"loss\": 4.5, \"lr\": 0.06, \"step\": 5}\n"
          << "{\"epoch\": 1, \"knn_top1\": 0.4, \"knn_top5\": 0.9}\n"
          << "{\"epoch\": 2, \"img_per_s\": 470, \"loss\": 4.1, \"lr\": 0.03, \"step\": 10}\n"
          << "{\"epoch\": 2, \"knn_top1\": 0.6, \"knn_top5\": 0.95}\n"
          << "{\"epoch\": 3, \"img_per_s\": 471, \"loss\": null, \"lr\": 0.001, \"step\": 15}\n"
          << "{\"epoch\": 3, \"knn_top1\": 0.7, \"knn_top5\": 1}\n"
          << "{\"epoch\": 4, \"img_per";  // a run killed while writing
}

std::string report_data(const std::string& html) {
  const std::string open = "<script type=\"application/json\" id=\"lumen-data\">";
  const size_t a = html.find(open);
  REQUIRE(a != std::string::npos);
  const size_t b = html.find("</script>", a);
  REQUIRE(b != std::string::npos);
  return html.substr(a + open.size(), b - a - open.size());
}

}  // namespace lumen::testing
