// Active-learning scores of classification predictions, as lightly's ScorerClassification
// computes them (lightly 1.3.3, the last release that has lightly.active_learning.scorers, with
// its default normalize_to_0_1=True):
//   uncertainty_least_confidence  1 - max_c p_c
//   uncertainty_margin            1 - (largest p - second largest p)
//   uncertainty_entropy           -sum_c p_c log2 p_c  (terms with p_c <= 0 count 0)
// each NaN turned into 0 (np.nan_to_num), then mapped linearly so that a one-hot prediction
// scores 0 and the uniform prediction 1, clamped to [0, 1] (np.interp between the two): least
// confidence is divided by 1 - 1/C, entropy by log2 C, margin is kept. One probability column is
// a binary problem: p and 1 - p.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lumen {

enum class UncertaintyScore { least_confidence, margin, entropy };

// "uncertainty_least_confidence", "uncertainty_margin", "uncertainty_entropy" (lightly's names).
const char* uncertainty_score_name(UncertaintyScore score);
UncertaintyScore uncertainty_score_from_name(const std::string& name);  // throws naming the three

// probabilities: (rows, classes) row-major, classes >= 1. Returns (rows) scores in [0, 1].
std::vector<double> uncertainty_scores(const std::vector<double>& probabilities, int64_t rows,
                                       int64_t classes, UncertaintyScore score);

}  // namespace lumen
