// MoCo's batch shuffle: lightly's batch_shuffle / batch_unshuffle semantics (batch[shuffle], then
// batch[argsort(shuffle)]) with a permutation keyed by (seed, step): valid, reproducible,
// different per step and seed, roughly uniform, and never recorded by autograd.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/testing.h"

#include <algorithm>
#include <set>

#include "engine/ops/batch_shuffle.h"
#include "engine/ops/ops.h"

using namespace lumen;

TEST_CASE("batch_shuffle permutes rows and batch_unshuffle restores their order") {
  Tensor x = Tensor::normal({9, 2, 3, 4}, 1);  // images (B, H, W, C)
  BatchShuffle s = batch_shuffle(x, 7, 3);
  REQUIRE(s.order.size() == 9);
  std::vector<int64_t> sorted = s.order;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 9; ++i) CHECK(sorted[size_t(i)] == i);
  CHECK(s.order != sorted);
  CHECK(s.shuffle.to_doubles() == std::vector<double>(s.order.begin(), s.order.end()));
  // batch[i] = x[shuffle[i]], as x[shuffle]
  const std::vector<double> xv = x.to_doubles(), bv = s.batch.to_doubles();
  const size_t row = 2 * 3 * 4;
  for (size_t i = 0; i < 9; ++i) {
    CHECK(std::equal(bv.begin() + i * row, bv.begin() + (i + 1) * row,
                     xv.begin() + size_t(s.order[i]) * row));
  }
  // unshuffle = argsort(shuffle)
  const std::vector<double> un = s.unshuffle.to_doubles();
  for (size_t i = 0; i < 9; ++i) CHECK(s.order[size_t(un[i])] == int64_t(i));
  // A row-wise computation on the shuffled batch comes back in the original order.
  Tensor y = scale(s.batch.reshape({9, 24}), 2.0);
  Tensor back = batch_unshuffle(y, s);
  CHECK(testing::max_relative_error(back, scale(x.reshape({9, 24}), 2.0)) == 0);
  CHECK_THROWS_WITH_AS(batch_unshuffle(Tensor::zeros({8, 24}), s), doctest::Contains("9 rows"),
                       Error);
}

TEST_CASE("the batch permutation is a function of (seed, step), uniform over positions") {
  CHECK(batch_permutation(64, 1, 5) == batch_permutation(64, 1, 5));
  CHECK(batch_permutation(64, 1, 5) != batch_permutation(64, 1, 6));
  CHECK(batch_permutation(64, 1, 5) != batch_permutation(64, 2, 5));
  CHECK(batch_permutation(1, 1, 5) == std::vector<int64_t>{0});
  CHECK(batch_permutation(0, 1, 5).empty());
  // Where element 0 lands over 4000 steps: each of 8 places about 500 times.
  std::vector<int> hits(8, 0);
  std::set<std::vector<int64_t>> distinct;
  for (int64_t step = 0; step < 4000; ++step) {
    const std::vector<int64_t> p = batch_permutation(8, 3, step);
    hits[size_t(std::find(p.begin(), p.end(), 0) - p.begin())] += 1;
    distinct.insert(p);
  }
  for (int h : hits) CHECK(std::abs(h - 500) < 90);  // ~4 standard deviations
  CHECK(distinct.size() > 3500);                     // 8! = 40320 permutations
}

TEST_CASE("batch_shuffle records nothing and hands back rows without gradient") {
  Tensor x = Tensor::normal({4, 3}, 2).set_requires_grad();
  const size_t before = Tape::current().size();
  BatchShuffle s = batch_shuffle(x, 0, 0);
  CHECK(!s.batch.requires_grad());
  CHECK(!batch_unshuffle(s.batch, s).requires_grad());
  CHECK(Tape::current().size() == before);
  CHECK_THROWS_AS(batch_shuffle(Tensor::zeros({0, 3}), 0, 0), Error);
}
