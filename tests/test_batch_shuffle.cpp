// MoCo's batch shuffle: lightly's batch_shuffle / batch_unshuffle semantics (batch[shuffle], then
// batch[argsort(shuffle)]) with a permutation keyed by (seed, step): valid, reproducible,
// different per step and seed, roughly uniform, and never recorded by autograd.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/testing.h"

#include <algorithm>
#include <set>

#include <thread>

#include "engine/dist/in_process_group.h"
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

TEST_CASE("across ranks: lightly's batch_shuffle_distributed, then each rank's rows back") {
  for (int world : {2, 3}) {
    CAPTURE(world);
    const int64_t b = 4;
    // Rank r's batch: rows whose values name (rank, row).
    auto batch_of = [&](int r) {
      std::vector<double> v;
      for (int64_t i = 0; i < b; ++i) v.insert(v.end(), {double(r), double(i)});
      return Tensor::from_vector(v, {b, 2}, DType::f32);
    };
    auto group = InProcessGroup::create(world);
    std::vector<BatchShuffle> shuffles(world);
    std::vector<Tensor> back(world);
    std::vector<std::thread> threads;
    for (int r = 0; r < world; ++r) {
      threads.emplace_back([&, r] {
        auto comm = group->communicator(r);
        shuffles[r] = batch_shuffle(batch_of(r), 5, 2, comm.get());
        // A row-wise function of the shuffled rows comes back in this rank's order.
        back[r] = batch_unshuffle(scale(shuffles[r].batch, 2.0), shuffles[r], comm.get());
      });
    }
    for (auto& t : threads) t.join();
    // Every rank drew the permutation of world * B rows for (seed, step).
    const std::vector<int64_t> order = batch_permutation(world * b, 5, 2);
    std::set<std::pair<double, double>> seen;
    for (int r = 0; r < world; ++r) {
      CAPTURE(r);
      CHECK(shuffles[r].order == order);
      const std::vector<double> got = shuffles[r].batch.to_doubles();
      for (int64_t i = 0; i < b; ++i) {
        const int64_t global = order[size_t(r * b + i)];  // gathered row, rank-major
        CHECK(got[size_t(2 * i)] == double(global / b));
        CHECK(got[size_t(2 * i + 1)] == double(global % b));
        seen.insert({got[size_t(2 * i)], got[size_t(2 * i + 1)]});
      }
      testing::check_close(back[r], scale(batch_of(r), 2.0), 0, "unshuffled rows");
    }
    CHECK(seen.size() == size_t(world * b));  // the ranks' batches partition the gathered rows
  }
}
