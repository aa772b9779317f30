// k-center greedy (farthest first, Sener & Savarese 2018) over L2-normalised rows: the per-point
// math that the CPU's tile updates and the GPU's step kernel share.
//
// Each step selects the candidate of highest score. A candidate's score is its diversity objective,
// the Euclidean distance to its nearest selected point, raised to the diversity strength and
// multiplied by the constant objectives (each raised to its own strength), as lightly combines
// selection strategies; it is kept as a logarithm, strength * log(distance) + weight, where weight
// is the sum of strength * log(objective) of the constant objectives. With diversity alone at a
// positive strength the score is the distance itself (the order is the same, and no two distances
// merge into one logarithm). Equal scores go to the larger seeded tie key, then to the lower row,
// so a selection is one well-defined list whatever order the points are visited in.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/common.h"

namespace lumen::kernels {

struct KCenterKey {
  double score;
  uint32_t tie;
  int64_t index;  // -1: no candidate
};

LUMEN_HD KCenterKey kcenter_none() { return KCenterKey{-INFINITY, 0u, -1}; }

// True when a ranks above b (a candidate above none).
LUMEN_HD bool kcenter_better(const KCenterKey& a, const KCenterKey& b) {
  if (a.index < 0) return false;
  if (b.index < 0) return true;
  if (a.score != b.score) return a.score > b.score;
  if (a.tie != b.tie) return a.tie > b.tie;
  return a.index < b.index;
}

struct KCenterObjective {
  double strength;      // the diversity objective's exponent (lightly's strategy strength)
  double min_distance;  // nearer than this to a selected point: never selected (0: no limit)
  bool plain;           // diversity alone at a positive strength: the score is the distance
};

// Distance between two rows from their squared norms and their dot product.
LUMEN_HD float kcenter_distance(float norm_x, float norm_c, float dot) {
  const float d2 = norm_x + norm_c - 2.0f * dot;
  return d2 > 0.0f ? sqrtf(d2) : 0.0f;
}

// A point stays a candidate while its distance to the selection is above 0 (a duplicate of a
// selected point never is one) and at least min_distance.
LUMEN_HD bool kcenter_eligible(float distance, const KCenterObjective& o) {
  return distance > 0.0f && double(distance) >= o.min_distance;
}

// The score of a candidate at `distance` from the selection; weight: its constant objectives.
LUMEN_HD double kcenter_score(float distance, double weight, const KCenterObjective& o) {
  return o.plain ? double(distance) : o.strength * log(double(distance)) + weight;
}

}  // namespace lumen::kernels
