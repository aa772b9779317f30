// Selecting a subset of embeddings as lightly's selection does. Each strategy is an objective per
// sample; the selection is greedy, one sample after the other, each time the candidate of highest
// product of objective^strength over the strategies (lightly's docs, "Selection Strategy
// Combination"), in selection order:
//   DIVERSITY  the Euclidean distance of the L2-normalised embedding to the nearest selected one
//              (k-center greedy: engine/search/kcenter.h), with lightly's stopping condition
//              min_distance (candidates nearer than it to a selected sample are left out) beside
//              n_samples; exact duplicates of a selected embedding are never selected.
//   WEIGHTS    a constant value >= 0 per sample: active-learning scores, random numbers (lightly's
//              RANDOM input), ...
// Thresholds (lightly's THRESHOLD strategy) are applied first, as the candidate flags. Equal scores
// go to the larger seeded tie key (so with diversity alone the first sample is a seeded draw),
// then to the lower row.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/core/tensor.h"

namespace lumen {

struct WeightObjective {
  std::vector<double> values;  // (N) finite, >= 0
  double strength = 1.0;       // exponent (lightly's strength); negative inverts the objective
};

struct SelectionSpec {
  bool diversity = false;
  double diversity_strength = 1.0;
  double min_distance = 0.0;  // diversity's stopping condition (0: none)
  std::vector<WeightObjective> weights;
  std::vector<uint8_t> candidate;  // (N) 1 where a sample passes the thresholds; empty: all
  int64_t n_samples = -1;          // -1: no count limit (then diversity's min_distance stops it)
  uint64_t seed = 0;               // tie keys
};

// embeddings: (N, D) float on the CPU, finite; device: where the diversity strategy runs.
// Returns the selected rows in selection order.
std::vector<int64_t> select_rows(const Tensor& embeddings, const SelectionSpec& spec,
                                 Device device);

// lightly's RANDOM input: (N) uniform numbers in [0, 1) drawn from the seed.
std::vector<double> random_objective(int64_t n, uint64_t seed);

}  // namespace lumen
