// Data and brute-force references for the search suites (test_search*): exact neighbours
// computed plainly in double precision.
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

}  // namespace lumen::testing
