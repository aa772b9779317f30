// `lumen select`: a subset of embeddings to label, chosen as lightly's selection chooses it
// (engine/search/selection.h), written one filename a line in selection order.
//
//   strategy=diversity            k-center greedy on the embeddings (lightly's EMBEDDINGS input
//                                 with the DIVERSITY strategy); min_distance is its
//                                 stopping_condition_minimum_distance
//   strategy=uncertainty          an active-learning score of predictions (lightly's SCORES input
//                                 with the WEIGHTS strategy): scores=predictions.csv, score=NAME
//   strategy=random               random numbers from seed (lightly's RANDOM input, WEIGHTS)
//   strategy=diversity,uncertainty  several, combined as lightly combines them: each objective
//                                 raised to its strength (strength=1,2: one number per strategy),
//                                 multiplied
//   threshold=t                   lightly's THRESHOLD strategy on score=: only samples whose score
//                                 passes threshold_operation are candidates
#pragma once

#include <string>
#include <vector>

#include "api/config.h"

namespace lumen {

std::vector<ConfigKey> select_config_schema();
Config select_config(const std::vector<std::string>& args = {});

struct SelectRun {
  int64_t samples = 0;     // embeddings read
  int64_t candidates = 0;  // after the threshold
  int64_t selected = 0;
  std::string strategies;  // "diversity^1 * uncertainty_entropy^2"
  std::string device;
  double seconds = 0;        // the selection itself (not reading the files)
  int64_t extra_scores = 0;  // predictions of files the embeddings do not have (ignored)
};

// Reads the files, selects, writes `output` (atomically).
SelectRun select_samples(const Config& config);

// The predictions CSV of strategy=uncertainty: a header, then one row per file: its filename, then
// its class probabilities (one column: the first class of a binary problem). Returns, for the
// given filenames (every one must have a row), the row-major probabilities (filenames, classes).
struct Predictions {
  std::vector<double> probabilities;
  int64_t classes = 0;
  int64_t extra = 0;  // rows of files not among the filenames
};
Predictions read_predictions(const std::string& path, const std::vector<std::string>& filenames);

}  // namespace lumen
