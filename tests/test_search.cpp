// Nearest-neighbour search: the exact cosine index (engine/search/cosine_index.h) and the row
// top-k under it (kernels/topk.h) against brute force, kNN classification on the index, and the
// approximate FAISS index's recall on clustered data (engine/search/approx_index.h).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <algorithm>
#include <cmath>

#include "engine/eval/knn.h"
#include "engine/ops/topk.h"
#include "engine/search/approx_index.h"
#include "engine/search/cosine_index.h"
#include "support/search_cases.h"
#include "support/testing.h"

using namespace lumen;
using testing::random_rows;
using testing::reference_neighbors;

namespace {

std::vector<int64_t> own_rows(int64_t n) {
  std::vector<int64_t> own(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) own[size_t(i)] = i;
  return own;
}

}  // namespace

TEST_CASE("CosineIndex: the neighbours of a brute-force reference (f32 and f64, blocks, k)") {
  for (DType dtype : {DType::f32, DType::f64}) {
    const Tensor bank = random_rows(300, 16, 1).to(dtype);
    const Tensor queries = random_rows(70, 16, 2).to(dtype);
    const double tol = dtype == DType::f64 ? 1e-12 : 2e-6;
    for (int64_t k : {1, 7, 299}) {
      CAPTURE(k);
      // Small blocks (on the CPU: chunks of 38 and of 1 bank rows), and the default.
      for (size_t block : {size_t(9 * 300 * dtype_size(dtype)), size_t(1), size_t(0)}) {
        CAPTURE(block);
        const CosineIndex index(bank, block);
        testing::check_neighbors(index.search(queries, k), reference_neighbors(bank, queries, k),
                                 70, 300, k, tol);
        // The bank against itself: no row is its own neighbour.
        testing::check_neighbors(index.search(bank, k, own_rows(300)),
                                 reference_neighbors(bank, bank, k, own_rows(300)), 300, 300, k,
                                 tol, own_rows(300));
      }
    }
  }
}

TEST_CASE("CosineIndex: equal similarities go to the lower row; zero rows; scale does not matter") {
  // Rows whose normalised values and products are exact: ties are real ties.
  const Tensor bank = Tensor::from_vector(
      std::vector<float>{1, 0, 0, 0, 2, 2, 2, 2, 0, 0, 0, 0, 0.5f, 0.5f, 0.5f, 0.5f, 3, 0, 0, 0},
      {5, 4});
  const Tensor query = Tensor::from_vector(std::vector<float>{1, 1, 1, 1}, {1, 4});
  const Neighbors nn = CosineIndex(bank).search(query, 5);
  CHECK(nn.indices.to_doubles() == std::vector<double>{1, 3, 0, 4, 2});
  CHECK(nn.similarities.to_doubles() == std::vector<double>{1, 1, 0.5, 0.5, 0});
  // Excluding row 1 from the query's neighbours.
  const Neighbors ex = CosineIndex(bank).search(query, 4, {1});
  CHECK(ex.indices.to_doubles() == std::vector<double>{3, 0, 4, 2});
}

TEST_CASE("row_topk: order (NaN first, ties by column), exclusion, k = all columns") {
  const float nan = NAN;
  const Tensor x = Tensor::from_vector(
      std::vector<float>{0.5f, nan, 2, 0.5f, 2, -1, nan, 0, 1, 2, 3, 4, 5, 6, 7, 8}, {2, 8});
  const TopK all = row_topk(x, 8);
  CHECK(all.indices.to_doubles() ==
        std::vector<double>{1, 6, 2, 4, 0, 3, 7, 5, 7, 6, 5, 4, 3, 2, 1, 0});
  const Tensor skip = Tensor::from_vector(std::vector<double>{2, -1}, {2}, DType::i64);
  const TopK three = row_topk(x, 3, skip);
  CHECK(three.indices.to_doubles() == std::vector<double>{1, 6, 4, 7, 6, 5});
  CHECK(three.values.to_doubles()[5] == 6);
  CHECK_THROWS_WITH_AS(row_topk(x, 8, skip), doctest::Contains("rows have 7 candidates"), Error);
}

TEST_CASE("CosineIndex: clear errors") {
  const Tensor bank = random_rows(10, 4, 3);
  Tensor bad = bank.clone();
  bad.data<float>()[4 * 6 + 2] = NAN;
  CHECK_THROWS_WITH_AS(CosineIndex{bad}, doctest::Contains("row 6 holds NaN"), Error);
  const CosineIndex index(bank);
  CHECK_THROWS_WITH_AS(index.search(bank, 10, own_rows(10)), doctest::Contains("has 9 candidates"),
                       Error);
  CHECK_THROWS_WITH_AS(index.search(bank, 11), doctest::Contains("has 10 candidates"), Error);
  CHECK_THROWS_WITH_AS(index.search(random_rows(2, 5, 4), 1), doctest::Contains("(Q, 4)"), Error);
  CHECK_THROWS_WITH_AS(index.search(bank, 1, {0, 1}), doctest::Contains("2 excluded rows"), Error);
}

TEST_CASE("knn_classify on the index: lightly's knn_predict from a full sort") {
  const int64_t n = 400, nq = 60, classes = 5, k = 25;
  const Tensor all = random_rows(n + nq, 12, 5, classes, 0.8);
  const Tensor bank = all.rows(0, n).clone(), queries = all.rows(n, nq).clone();
  std::vector<int64_t> bank_labels, query_labels;  // row i is in cluster i mod classes
  for (int64_t i = 0; i < n; ++i) bank_labels.push_back(i % classes);
  for (int64_t i = n; i < n + nq; ++i) query_labels.push_back(i % classes);
  const KnnResult r = knn_classify(bank, bank_labels, queries, query_labels, classes, k, 0.1);
  const testing::ReferenceNeighbors ref = reference_neighbors(bank, queries, k);
  int64_t hits = 0;
  for (int64_t q = 0; q < nq; ++q) {
    std::vector<double> score(static_cast<size_t>(classes), 0.0);
    for (int64_t j = 0; j < k; ++j) {
      const size_t at = size_t(q * k + j);
      score[size_t(bank_labels[size_t(ref.index[at])])] += std::exp(ref.similarity[at] / 0.1);
    }
    const int64_t best = std::max_element(score.begin(), score.end()) - score.begin();
    CHECK(r.ranked[size_t(q)][0] == best);
    hits += best == query_labels[size_t(q)];
  }
  CHECK(r.top1 == doctest::Approx(double(hits) / double(nq)));
  CHECK(r.top1 > 0.9);  // the clusters are the classes
}

TEST_CASE("ApproxIndex: IVF and HNSW recall against the exact index on clustered data") {
  // 200 clusters in 32 dimensions, each spread over 4 of them: neighbours are well defined.
  const Tensor all = random_rows(20500, 32, 7, 200, 0.3, 4);
  const Tensor bank = all.rows(0, 20000).clone(), queries = all.rows(20000, 500).clone();
  if (!faiss_available()) {
    ApproxOptions o;
    CHECK_THROWS_WITH_AS(ApproxIndex(bank, o), doctest::Contains("built without FAISS"), Error);
    return;
  }
  const Neighbors exact = CosineIndex(bank).search(queries, 10);
  for (ApproxKind kind : {ApproxKind::ivf, ApproxKind::hnsw}) {
    ApproxOptions o;
    o.kind = kind;
    const ApproxIndex index(bank, o);
    CAPTURE(index.describe());
    const double recall = recall_at_k(index.search(queries, 10), exact);
    MESSAGE(index.describe(), ": recall@10 ", recall);
    CHECK(recall >= 0.9);
    CHECK(recall <= 1.0);
    // No bank row is its own neighbour.
    const Tensor some = bank.rows(0, 50);
    std::vector<int64_t> own;
    for (int64_t i = 0; i < 50; ++i) own.push_back(i);
    const Neighbors self = index.search(some, 10, own);
    const int64_t* ix = self.indices.data<int64_t>();
    for (int64_t i = 0; i < 50; ++i) {
      CHECK(std::find(ix + i * 10, ix + (i + 1) * 10, i) == ix + (i + 1) * 10);
    }
  }
  // A bad index gets a low recall: the check can fail.
  ApproxOptions poor;
  poor.kind = ApproxKind::ivf;
  poor.nlist = 400;
  poor.nprobe = 1;
  CHECK(recall_at_k(ApproxIndex(bank, poor).search(queries, 10), exact) < 0.9);
}
