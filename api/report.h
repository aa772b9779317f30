// `lumen report`: one self-contained HTML page about a training run and its embeddings — the
// training curves (loss, learning rate, kNN accuracy from run_dir/metrics.jsonl), a 2-D map of the
// embeddings (PCA, engine/eval/pca.h) coloured by label with the image as a thumbnail on hover,
// a click showing a point's nearest neighbours (engine/search/cosine_index.h), and a selection
// (lumen select's output) highlighted. The chart library (Chart.js, Debian's libjs-chart.js) and
// the thumbnails (JPEG, made by Lumen's own decoding and resizing, engine/data) are embedded, so
// the page needs no network when it is viewed.
#pragma once

#include <string>
#include <vector>

#include "api/config.h"

namespace lumen {

std::vector<ConfigKey> report_config_schema();
Config report_config(const std::vector<std::string>& args = {});

struct ReportSummary {
  int64_t metric_lines = 0;    // lines of metrics.jsonl used
  int64_t skipped_lines = 0;   // lines that were not JSON objects (a run killed mid-line)
  int64_t embeddings = 0;      // rows of embeddings=
  int64_t points = 0;          // points on the map
  int64_t thumbnails = 0;      // points with a thumbnail
  int64_t selected = 0;        // lines of selected=
  int64_t selected_found = 0;  // of them, embeddings on the map
  std::string input_dir;       // where the thumbnails came from ("" when none)
  size_t bytes = 0;            // size of the page
};

// Gathers everything and writes `output` (atomically).
ReportSummary write_report(const Config& config);

// The page from its data (a JSON object, see report.cpp) and the chart library's source.
std::string report_page(const std::string& data_json, const std::string& chart_library,
                        const std::string& title);

}  // namespace lumen
