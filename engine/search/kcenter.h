// k-center greedy selection (furthest point first, Sener and Savarese 2018) over L2-normalised
// embeddings, with lightly's way of combining selection strategies: each step selects the
// candidate of highest distance^strength * prod(objective^strength) over the constant objectives
// (kernels/kcenter.cuh), where the distance is Euclidean to the nearest selected point. Seeded tie
// keys break equal scores, so a selection is deterministic.
//
// CPU: the points are cut into tiles that keep the best score they had when last brought up to
// date; a tile is brought up to date (one GEMM of its points against the centres selected since)
// only when its kept score is the highest, since scores only fall as centres are added. With
// diversity alone on random 128-d data most tiles then stay untouched for many steps, and an
// update is a GEMM over many centres at once instead of one pass over all points per step. A
// negative strength makes scores rise as centres are added; every tile is then updated each step.
// GPU: every point is updated at every step (two launches per step, no host synchronisation).
#pragma once

#include <cstdint>
#include <vector>

#include "engine/core/tensor.h"

namespace lumen {

struct KCenterRequest {
  int64_t n_samples = 0;    // stop after this many (>= 1)
  double strength = 1.0;    // the exponent of the distance (lightly's strategy strength)
  double min_distance = 0;  // never select a point nearer than this to a selected one (0: none)
  // (N) per point sum of strength * log(objective) over the constant objectives; empty: none.
  std::vector<double> weight;
  std::vector<uint8_t> candidate;  // (N) 1 where a point may be selected; empty: every point
  std::vector<uint32_t> tie;       // (N) tie keys (the larger wins among equal scores)
  int64_t first = -1;              // the first point; -1: the best by weight, then tie key
};

// unit_rows: (N, D) f32 L2-normalised rows on the CPU or a GPU. Returns the selected rows in
// selection order: n_samples of them, or fewer when no candidate is left (every remaining point
// nearer than min_distance to the selection, or a duplicate of a selected point).
std::vector<int64_t> kcenter_greedy(const Tensor& unit_rows, const KCenterRequest& request);

// Rows of the CPU tiles (a tile's GEMM output is tile x new centres).
constexpr int64_t kKCenterTile = 4096;

}  // namespace lumen
