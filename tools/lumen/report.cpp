// `lumen report`: a self-contained HTML page about a run and its embeddings (api/report.h).
#include <cstdio>

#include "api/report.h"
#include "tools/lumen/commands.h"

namespace lumen::cli {

int run_report(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    std::printf(
        "usage: lumen report run_dir=run/ [embeddings=emb.csv] [selected=selected.txt] "
        "output=report.html\n\n"
        "Writes one HTML file that needs no network to view: the training curves of\n"
        "run_dir/metrics.jsonl (loss, learning rate, kNN accuracy), and with embeddings= a 2-D\n"
        "map of them (PCA) coloured by label, the image on hover (thumbnails from input_dir, by\n"
        "default the folder the run trained on), a click listing a point's nearest neighbours,\n"
        "and the samples of selected= (lumen select's output) highlighted.\n\nkeys:\n%s",
        Config(report_config_schema()).help().c_str());
    return 0;
  }
  const Config config = report_config(args);
  const ReportSummary s = write_report(config);
  std::printf("wrote %s (%.1f MB): %lld metric lines", config.get_string("output").c_str(),
              double(s.bytes) / 1e6, (long long)s.metric_lines);
  if (s.embeddings > 0) {
    std::printf(", %lld of %lld embeddings on the map, %lld with thumbnails", (long long)s.points,
                (long long)s.embeddings, (long long)s.thumbnails);
  }
  if (s.selected > 0) {
    std::printf(", %lld of %lld selected found", (long long)s.selected_found,
                (long long)s.selected);
  }
  std::printf("\n");
  if (s.skipped_lines > 0) {
    std::printf("note: %lld lines of metrics.jsonl were not JSON objects and were skipped\n",
                (long long)s.skipped_lines);
  }
  if (s.embeddings > 0 && s.thumbnails < s.points) {
    std::printf(
        "note: %lld points have no thumbnail (%s); pass input_dir= the folder the "
        "embeddings were made from\n",
        (long long)(s.points - s.thumbnails),
        s.input_dir.empty() ? "no input_dir known" : ("not found in " + s.input_dir).c_str());
  }
  return 0;
}

}  // namespace lumen::cli
