// A small run for the report suites (test_report, test_report_browser): an image folder of 4
// classes, a metrics.jsonl as the trainer writes it, embeddings of the images and a selection.
#pragma once

#include <string>

#include "engine/io/embeddings_csv.h"
#include "support/images.h"

namespace lumen::testing {

struct ReportCase {
  TempDir dir;
  std::string images, run_dir, embeddings, selected;  // paths under dir
  Embeddings e;                                       // what embeddings holds
  std::vector<std::string> selection;                 // what selected holds
};

// n images (PNG and JPEG alternately) in class folders c0..c3, 3 epochs of metrics with kNN
// lines, embeddings clustered by class (row i: class i mod 4), every 7th image selected.
void make_report_case(ReportCase& c, int64_t n = 40);

// The JSON text the page holds (between its lumen-data script tags).
std::string report_data(const std::string& html);

}  // namespace lumen::testing
