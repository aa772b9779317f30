// Data and brute-force references for the search and selection suites (test_search*,
// test_selection*): exact neighbours and the k-center greedy computed plainly in double precision.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/core/tensor.h"
#include "engine/search/cosine_index.h"

namespace lumen::testing {

// (n, d) f32 rows: N(0, 1) values, or `clusters` > 0 gaussian clusters: row i is centre i mod
// clusters (N(0, 1)) plus spread * N(0, 1) noise in the first `noise_dims` coordinates (0: all),
// so that neighbours within a cluster are well defined when noise_dims is small.
Tensor random_rows(int64_t n, int64_t d, uint64_t seed, int64_t clusters = 0, double spread = 0.3,
                   int64_t noise_dims = 0);

// Row-major doubles of x's rows divided by their norms (zero rows stay zero).
std::vector<double> unit_rows_f64(const Tensor& x);

struct ReferenceNeighbors {
  std::vector<int64_t> index;      // (q, k) best first, ties to the lower row
  std::vector<double> similarity;  // (q, k)
  std::vector<double> all;         // (q, n) every similarity
};
// Cosine neighbours of every query by sorting all similarities; exclude as CosineIndex's.
ReferenceNeighbors reference_neighbors(const Tensor& bank, const Tensor& queries, int64_t k,
                                       const std::vector<int64_t>& exclude = {});

// CHECKs that an index's neighbours are the reference's: at every rank either the same row, or
// (where rounding swapped two rows of nearly the same similarity) a row whose exact similarity is
// the reference's at that rank within 100 tol; similarities within tol of the exact ones, best
// first, distinct rows, none excluded. At least 95% of the ranks must hold the same row, so the
// check says something.
void check_neighbors(const Neighbors& nn, const ReferenceNeighbors& ref, int64_t nq, int64_t n,
                     int64_t k, double tol, const std::vector<int64_t>& exclude = {});

struct GreedyCheck {
  int64_t steps = 0;     // picks after the first that were checked
  int64_t same = 0;      // of them, the reference's own pick
  double worst_gap = 0;  // largest (best score - score of the pick) where they differ
  bool stop_ok = false;  // the selection stopped at n_samples, or when no candidate was left
};
// Replays a k-center greedy selection against a plain greedy in double precision on unit rows
// (kernels/kcenter.cuh's rule: the distance to the nearest selected row, or strength *
// log(distance)
// + weight when weights are given or the strength is not positive; candidates at distance > 0 and
// >= min_distance; ties by tie key then row): at each step, after the reference has taken the
// selection's earlier picks, the selection's pick must be a candidate whose score is the best
// (differences only where two scores are within rounding, gap <= 1e-5).
GreedyCheck check_greedy(const Tensor& rows, const std::vector<int64_t>& selected,
                         int64_t n_samples, double strength, double min_distance,
                         const std::vector<double>& weight, const std::vector<uint8_t>& candidate,
                         const std::vector<uint32_t>& tie);

// Euclidean distance between rows a and b of x after L2 normalisation, in double precision.
double unit_distance(const Tensor& x, int64_t a, int64_t b);

}  // namespace lumen::testing
