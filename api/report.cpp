#include "api/report.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "api/datasets.h"
#include "engine/data/image_encode.h"
#include "engine/data/video_folder.h"
#include "engine/eval/pca.h"
#include "engine/io/embeddings_csv.h"
#include "engine/io/safetensors.h"
#include "engine/search/cosine_index.h"
#include "kernels/philox.cuh"

namespace lumen {

namespace {
using K = ConfigKind;
using nlohmann::json;
namespace fs = std::filesystem;

// The curves of metrics.jsonl: epoch lines (loss, lr) and kNN lines (knn_top1, knn_top5).
json read_curves(const std::string& path, ReportSummary& summary) {
  std::ifstream in(path);
  LUMEN_CHECK(in, "run_dir has no readable metrics.jsonl (", path, ": ", std::strerror(errno),
              "); pass the output_dir of a lumen train run");
  json curves = {{"epoch", json::array()},    {"loss", json::array()},
                 {"lr", json::array()},       {"knn_epoch", json::array()},
                 {"knn_top1", json::array()}, {"knn_top5", json::array()}};
  auto number = [](const json& v) { return v.is_number() ? json(v.get<double>()) : json(nullptr); };
  for (std::string line; std::getline(in, line);) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const json row = json::parse(line, nullptr, false);
    if (row.is_discarded() || !row.is_object() || !row.contains("epoch")) {
      ++summary.skipped_lines;
      continue;
    }
    ++summary.metric_lines;
    if (row.contains("loss")) {
      curves["epoch"].push_back(number(row["epoch"]));
      curves["loss"].push_back(number(row["loss"]));
      curves["lr"].push_back(row.contains("lr") ? number(row["lr"]) : json(nullptr));
    }
    if (row.contains("knn_top1")) {
      curves["knn_epoch"].push_back(number(row["epoch"]));
      curves["knn_top1"].push_back(number(row["knn_top1"]));
      curves["knn_top5"].push_back(row.contains("knn_top5") ? number(row["knn_top5"])
                                                            : json(nullptr));
    }
  }
  return curves;
}

// The input_dir a run trained on, from its last checkpoint's config ("" when there is none).
std::string trained_input_dir(const std::string& run_dir) {
  const fs::path checkpoint = fs::path(run_dir) / "checkpoints" / "last.safetensors";
  std::error_code ec;
  if (!fs::is_regular_file(checkpoint, ec)) return "";
  const SafetensorsFile file = load_safetensors(checkpoint.string());
  const auto it = file.metadata.find("config");
  if (it == file.metadata.end()) return "";
  std::istringstream lines(it->second);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("input_dir=", 0) == 0) return line.substr(10);
  }
  return "";
}

std::string base64(const std::vector<uint8_t>& bytes) {
  static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const uint32_t b = uint32_t(bytes[i]) << 16 |
                       (i + 1 < bytes.size() ? uint32_t(bytes[i + 1]) << 8 : 0u) |
                       (i + 2 < bytes.size() ? uint32_t(bytes[i + 2]) : 0u);
    out += table[(b >> 18) & 63];
    out += table[(b >> 12) & 63];
    out += i + 1 < bytes.size() ? table[(b >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? table[b & 63] : '=';
  }
  return out;
}

// Thumbnails (JPEG, base64) of `names`, "" where an image is missing or unreadable. The images go
// through Lumen's data path: a folder of image files is opened with only these files listed
// (data.filenames: nothing else is decoded), other datasets (idx, CIFAR, videos) whole; then the
// storage transform (shorter side, centre crop) makes them size x size.
std::vector<std::string> thumbnails(const std::string& input_dir,
                                    const std::vector<std::string>& names, int size) {
  std::vector<std::string> out(names.size());
  std::error_code ec;
  DatasetRequest r;
  r.path = input_dir;
  r.image_size = size;
  r.on_error = data::OnBadFile::skip;
  r.progress = false;
  std::string list_path;
  if (fs::is_directory(input_dir, ec) && !data::folder_holds_videos(input_dir)) {
    std::vector<std::string> present;
    for (const std::string& name : names) {
      if (fs::is_regular_file(fs::path(input_dir) / name, ec)) present.push_back(name);
    }
    if (present.empty()) return out;
    char path[] = "/tmp/lumen_report_files_XXXXXX";
    const int fd = ::mkstemp(path);
    LUMEN_CHECK(fd >= 0, "cannot create a temporary file list: ", std::strerror(errno));
    ::close(fd);
    list_path = path;
    std::ofstream list(list_path);
    for (const std::string& name : present) list << name << "\n";
    r.filenames = list_path;
  }
  data::ImageDataset images;
  try {
    images = resized_dataset(open_dataset(r), size);
  } catch (...) {
    if (!list_path.empty()) std::remove(list_path.c_str());
    throw;
  }
  if (!list_path.empty()) std::remove(list_path.c_str());
  std::map<std::string, int64_t> index;
  for (int64_t i = 0; i < images.size(); ++i) index[images.filenames[size_t(i)]] = i;
  std::vector<int64_t> found(names.size(), -1);
  for (size_t i = 0; i < names.size(); ++i) {
    const auto it = index.find(names[i]);
    if (it != index.end()) found[i] = it->second;
  }
#pragma omp parallel for schedule(dynamic, 16)
  for (int64_t i = 0; i < int64_t(names.size()); ++i) {
    if (found[size_t(i)] < 0) continue;
    out[size_t(i)] = base64(data::encode_jpeg(images.image(found[size_t(i)]), size, size, 80));
  }
  return out;
}

// Per label, the first folder its files share ("" when they do not all share one).
std::map<int64_t, std::string> label_names(const Embeddings& e) {
  std::map<int64_t, std::string> names;
  std::set<int64_t> mixed;
  for (size_t i = 0; i < e.filenames.size(); ++i) {
    const size_t slash = e.filenames[i].find('/');
    const std::string folder = slash == std::string::npos ? "" : e.filenames[i].substr(0, slash);
    const auto [it, fresh] = names.emplace(e.labels[i], folder);
    if (!fresh && it->second != folder) mixed.insert(e.labels[i]);
  }
  for (int64_t l : mixed) names[l] = "";
  return names;
}

std::vector<std::string> read_selected(const std::string& path) {
  std::ifstream in(path);
  LUMEN_CHECK(in, "cannot open selected=", path, ": ", std::strerror(errno));
  std::vector<std::string> names;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) names.push_back(line);
  }
  return names;
}

// The embeddings part of the page: map, labels, neighbours, thumbnails.
json embeddings_data(const Config& c, ReportSummary& summary) {
  const Embeddings e = load_embeddings_csv(c.require("embeddings"));
  const int64_t n = e.values.size(0);
  LUMEN_CHECK(n >= 2, "embeddings=", c.get_string("embeddings"), " holds ", n,
              " embedding(s); a map needs at least 2");
  summary.embeddings = n;
  std::map<std::string, int64_t> row_of;
  for (int64_t i = 0; i < n; ++i) row_of.emplace(e.filenames[size_t(i)], i);

  // The points: every selected embedding, then a seeded sample of the rest up to max_points.
  std::vector<uint8_t> chosen(static_cast<size_t>(n), 0), selected(static_cast<size_t>(n), 0);
  if (c.is_set("selected")) {
    const std::vector<std::string> names = read_selected(c.require("selected"));
    summary.selected = int64_t(names.size());
    for (const std::string& name : names) {
      const auto it = row_of.find(name);
      if (it == row_of.end()) continue;
      selected[size_t(it->second)] = chosen[size_t(it->second)] = 1;
    }
  }
  const int64_t max_points = c.get_int("max_points");
  std::vector<std::pair<uint32_t, int64_t>> draw;
  for (int64_t i = 0; i < n; ++i) {
    if (!chosen[size_t(i)])
      draw.push_back({philox4x32(uint64_t(c.get_int("seed")), 0x9E9, uint64_t(i)).v[0], i});
  }
  std::sort(draw.begin(), draw.end());
  int64_t taken = std::count(chosen.begin(), chosen.end(), 1);
  for (const auto& [key, i] : draw) {
    if (taken >= max_points) break;
    chosen[size_t(i)] = 1;
    ++taken;
  }
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < n; ++i) {
    if (chosen[size_t(i)]) rows.push_back(i);
  }
  summary.points = int64_t(rows.size());
  summary.selected_found = std::count(selected.begin(), selected.end(), 1);

  const Pca p = pca(e.values, 2);
  const float* xy = p.projection.data<float>();
  Tensor shown = Tensor::empty({int64_t(rows.size()), e.values.size(1)});
  for (size_t k = 0; k < rows.size(); ++k)
    shown.rows(int64_t(k), 1).copy_from(e.values.rows(rows[k], 1));
  const int64_t k_nn = std::min<int64_t>(c.get_int("neighbors"), int64_t(rows.size()) - 1);
  json map = {{"x", json::array()},
              {"y", json::array()},
              {"label", json::array()},
              {"name", json::array()},
              {"selected", json::array()},
              {"thumb", json::array()},
              {"neighbors", json::array()},
              {"similarity", json::array()},
              {"k", k_nn},
              {"explained", p.explained},
              {"total", n}};
  if (k_nn > 0) {
    std::vector<int64_t> own(rows.size());
    for (size_t k = 0; k < rows.size(); ++k) own[k] = int64_t(k);
    const Neighbors nn = CosineIndex(shown).search(shown, k_nn, own);
    const int64_t* ix = nn.indices.data<int64_t>();
    const std::vector<double> sim = nn.similarities.to_doubles();
    for (int64_t i = 0; i < nn.indices.numel(); ++i) {
      map["neighbors"].push_back(ix[i]);
      map["similarity"].push_back(std::round(sim[size_t(i)] * 1e4) / 1e4);
    }
  }
  std::vector<std::string> names;
  for (int64_t r : rows) names.push_back(e.filenames[size_t(r)]);
  std::string input_dir = c.get_string("input_dir");
  if (input_dir.empty()) input_dir = trained_input_dir(c.require("run_dir"));
  std::vector<std::string> thumbs(rows.size());
  if (!input_dir.empty()) thumbs = thumbnails(input_dir, names, int(c.get_int("thumbnail_size")));
  summary.input_dir = input_dir;
  json thumb_list = json::array();
  for (size_t k = 0; k < rows.size(); ++k) {
    const int64_t r = rows[k];
    map["x"].push_back(std::round(double(xy[r * 2]) * 1e5) / 1e5);
    map["y"].push_back(std::round(double(xy[r * 2 + 1]) * 1e5) / 1e5);
    map["label"].push_back(e.labels[size_t(r)]);
    map["name"].push_back(e.filenames[size_t(r)]);
    map["selected"].push_back(int(selected[size_t(r)]));
    if (thumbs[k].empty()) {
      map["thumb"].push_back(-1);
    } else {
      map["thumb"].push_back(thumb_list.size());
      thumb_list.push_back(std::move(thumbs[k]));
      ++summary.thumbnails;
    }
  }
  json labels = json::array();
  for (const auto& [label, name] : label_names(e))
    labels.push_back({{"id", label}, {"name", name}});
  return {{"map", map}, {"labels", labels}, {"thumbs", thumb_list}};
}

std::string read_text(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  LUMEN_CHECK(in, what, " ", path, " cannot be read (", std::strerror(errno), ")");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_atomically(const std::string& path, const std::string& text) {
  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(temp, std::ios::binary);
    LUMEN_CHECK(out, "cannot write '", temp, "': ", std::strerror(errno),
                "; check that the folder exists and is writable");
    out << text;
    out.flush();
    if (!out) {
      std::remove(temp.c_str());
      LUMEN_FAIL("writing '", path, "' failed (disk full?)");
    }
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    std::remove(temp.c_str());
    LUMEN_FAIL("cannot write '", path, "': ", reason);
  }
}

}  // namespace

std::vector<ConfigKey> report_config_schema() {
  return {
      {"run_dir", K::path, "", "the output_dir of a lumen train run (its metrics.jsonl)"},
      {"embeddings", K::path, "", "lightly's embeddings CSV to map (default: no map)"},
      {"selected", K::path, "",
       "a selection to highlight: lumen select's output, one filename a line"},
      {"input_dir", K::path, "",
       "the images of the embeddings, for thumbnails (default: the input_dir the run trained on)"},
      {"output", K::path, "report.html", "the HTML file to write"},
      {"max_points",
       K::integer,
       "5000",
       "points on the map: every selected embedding, then a seeded sample of the others",
       {},
       2},
      {"neighbors",
       K::integer,
       "8",
       "nearest neighbours a click shows (among the map's points)",
       {},
       0},
      {"thumbnail_size", K::integer, "64", "side of the thumbnails in pixels", {}, 8},
      {"seed", K::integer, "1", "seed of the sample of points", {}, 0},
      {"chartjs", K::path, LUMEN_CHARTJS_PATH,
       "Chart.js to embed (Debian's libjs-chart.js installs it here)"},
  };
}

Config report_config(const std::vector<std::string>& args) {
  Config c(report_config_schema());
  c.parse_args(args);
  return c;
}

ReportSummary write_report(const Config& c) {
  const std::string run_dir = c.require("run_dir"), output = c.require("output");
  const std::string chartjs = c.get_string("chartjs");
  std::error_code ec;
  LUMEN_CHECK(fs::is_regular_file(chartjs, ec), "the chart library ", chartjs,
              " is missing: install Debian's libjs-chart.js (tools/setup.sh), or pass chartjs= "
              "the path of chart.min.js (Chart.js 3)");
  ReportSummary summary;
  json data = {{"run_dir", fs::weakly_canonical(fs::absolute(run_dir), ec).string()}};
  data["curves"] = read_curves((fs::path(run_dir) / "metrics.jsonl").string(), summary);
  if (c.is_set("embeddings")) {
    data.update(embeddings_data(c, summary));
    data["embeddings"] = c.get_string("embeddings");
  } else {
    LUMEN_CHECK(!c.is_set("selected"),
                "selected= is highlighted on the map of embeddings=; pass "
                "the embeddings too");
  }
  // "</" inside a script element would end it: JSON may write it as "<\/".
  std::string text = data.dump();
  for (size_t at = text.find("</"); at != std::string::npos; at = text.find("</", at + 2)) {
    text.replace(at, 2, "<\\/");
  }
  const std::string title =
      "Lumen report: " + fs::path(data["run_dir"].get<std::string>()).filename().string();
  const std::string page = report_page(text, read_text(chartjs, "the chart library"), title);
  write_atomically(output, page);
  summary.bytes = page.size();
  return summary;
}

}  // namespace lumen
