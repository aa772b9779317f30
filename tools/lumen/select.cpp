// `lumen select`: a subset of embeddings to label (api/select.h).
#include <cstdio>

#include "api/select.h"
#include "tools/lumen/commands.h"

namespace lumen::cli {

namespace {

const char* kSelectHelp =
    "usage: lumen select embeddings=emb.csv strategy=diversity n_samples=N [min_distance=d]\n"
    "                    [scores=predictions.csv score=...] [strength=...] output=selected.txt\n"
    "\n"
    "Chooses samples as lightly's selection does: greedily, one after the other, each time the\n"
    "candidate with the highest product of objective^strength over the strategies. Writes one\n"
    "filename per line, in selection order.\n"
    "\n"
    "strategies (strategy=, comma separated to combine them):\n"
    "  diversity    lightly's DIVERSITY on the embeddings: the objective is the Euclidean\n"
    "               distance of a sample's L2-normalised embedding to the nearest selected one\n"
    "               (k-center greedy, furthest first). Exact duplicates of a selected sample are\n"
    "               never selected; min_distance is lightly's\n"
    "               stopping_condition_minimum_distance. With diversity alone the first sample\n"
    "               is drawn from seed.\n"
    "  uncertainty  lightly's WEIGHTS on an active-learning score of the predictions in scores=\n"
    "               (score=uncertainty_least_confidence, uncertainty_margin or\n"
    "               uncertainty_entropy, lightly's classification scorers normalised to [0, 1]).\n"
    "  random       lightly's WEIGHTS on RANDOM numbers from seed.\n"
    "A threshold (lightly's THRESHOLD) is applied first: threshold=0.5 with\n"
    "threshold_operation=bigger_equal keeps only samples whose score is at least 0.5.\n"
    "The selection stops at n_samples (or proportion_samples), at min_distance, or when no\n"
    "candidate is left.\n"
    "\n"
    "scores= is a CSV with a header and one row per file: the filename (as in the embeddings),\n"
    "then the class probabilities (rows sum to 1; one column is a binary problem).\n"
    "\n"
    "examples:\n"
    "  lumen select embeddings=emb.csv strategy=diversity n_samples=1000\n"
    "  lumen select embeddings=emb.csv strategy=diversity min_distance=0.4\n"
    "  lumen select embeddings=emb.csv strategy=diversity,uncertainty strength=1,2 \\\n"
    "               scores=predictions.csv score=uncertainty_margin n_samples=500\n"
    "\n"
    "keys:\n";

}  // namespace

int run_select(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    std::printf("%s%s", kSelectHelp, Config(select_config_schema()).help().c_str());
    return 0;
  }
  const Config config = select_config(args);
  const SelectRun run = select_samples(config);
  std::printf(
      "selected %lld of %lld candidates (%lld embeddings) by %s on %s in %.3f s; wrote %s\n",
      (long long)run.selected, (long long)run.candidates, (long long)run.samples,
      run.strategies.c_str(), run.device.c_str(), run.seconds, config.get_string("output").c_str());
  if (run.extra_scores > 0) {
    std::printf("note: scores= has %lld rows for files the embeddings do not have (ignored)\n",
                (long long)run.extra_scores);
  }
  return 0;
}

}  // namespace lumen::cli
