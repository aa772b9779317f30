// The data loader: epoch orders from (seed, epoch), drop_last, batch contents (the GPU paths:
// test_data_loader_cuda.cpp).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <algorithm>
#include <cmath>
#include <set>

#include "engine/data/loader.h"
#include "support/datasets.h"
#include "support/testing.h"

using namespace lumen;
using namespace lumen::data;
using lumen::testing::numbered_dataset;

namespace {

// Checks that a CPU batch holds the images and labels its indices name.
void check_batch_contents(const Batch& batch, const ImageDataset& d) {
  const std::vector<double> idx = batch.indices.to_doubles();
  const std::vector<double> labels = batch.labels.to_doubles();
  const Tensor images = batch.images.to(Device::cpu());
  REQUIRE(idx.size() == batch.host_indices.size());
  for (size_t i = 0; i < idx.size(); ++i) {
    REQUIRE(int64_t(idx[i]) == batch.host_indices[i]);
    REQUIRE(int64_t(labels[i]) == d.labels[size_t(idx[i])]);
    REQUIRE(std::equal(d.image(int64_t(idx[i])), d.image(int64_t(idx[i])) + d.image_bytes(),
                       images.data<uint8_t>() + i * d.image_bytes()));
  }
}

}  // namespace

TEST_CASE("epoch_order: a permutation fixed by (seed, epoch)") {
  const auto a = epoch_order(100, 7, 0);
  std::vector<int64_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 100; ++i) REQUIRE(sorted[size_t(i)] == i);
  CHECK(epoch_order(100, 7, 0) == a);
  CHECK(epoch_order(100, 7, 1) != a);
  CHECK(epoch_order(100, 8, 0) != a);
  const auto identity = epoch_order(5, 7, 3, /*shuffle=*/false);
  CHECK(identity == std::vector<int64_t>{0, 1, 2, 3, 4});
  CHECK(epoch_order(0, 1, 0).empty());
  CHECK(epoch_order(1, 1, 0) == std::vector<int64_t>{0});
}

TEST_CASE("epoch_order: every element is equally likely in every position") {
  const int n = 8, epochs = 4000;
  std::vector<std::vector<int>> counts(n, std::vector<int>(n, 0));
  for (int e = 0; e < epochs; ++e) {
    const auto order = epoch_order(n, 123, e);
    for (int p = 0; p < n; ++p) counts[size_t(p)][size_t(order[size_t(p)])]++;
  }
  // Each cell is Binomial(4000, 1/8): mean 500, sd ~21; 6 sd is a failure, not noise.
  for (int p = 0; p < n; ++p) {
    for (int v = 0; v < n; ++v) CHECK(std::abs(counts[size_t(p)][size_t(v)] - 500) < 126);
  }
}

TEST_CASE("CPU loader: drop_last, contents, reproducibility") {
  const ImageDataset d = numbered_dataset(10);
  LoaderOptions options;
  options.batch_size = 4;
  options.seed = 5;
  SUBCASE("drop_last leaves out the partial batch") {
    DataLoader loader(d, options);
    CHECK(loader.batches_per_epoch() == 2);
    loader.start_epoch(0);
    Batch batch;
    std::set<int64_t> seen;
    int batches = 0;
    while (loader.next(&batch)) {
      ++batches;
      CHECK(batch.images.shape() == Shape{4, 4, 5, 3});
      CHECK(batch.images.dtype() == DType::u8);
      CHECK(batch.labels.dtype() == DType::i64);
      check_batch_contents(batch, d);
      seen.insert(batch.host_indices.begin(), batch.host_indices.end());
    }
    CHECK(batches == 2);
    CHECK(seen.size() == 8);
    CHECK_FALSE(loader.next(&batch));
  }
  SUBCASE("without drop_last every image comes once; the last batch is short") {
    options.drop_last = false;
    DataLoader loader(d, options);
    CHECK(loader.batches_per_epoch() == 3);
    loader.start_epoch(2);
    Batch batch;
    std::vector<int64_t> all;
    std::vector<int64_t> sizes;
    while (loader.next(&batch)) {
      check_batch_contents(batch, d);
      sizes.push_back(batch.images.size(0));
      all.insert(all.end(), batch.host_indices.begin(), batch.host_indices.end());
    }
    CHECK(sizes == std::vector<int64_t>{4, 4, 2});
    CHECK(all == epoch_order(10, 5, 2));
  }
  SUBCASE("the same (seed, epoch) gives the same batches; restarting an epoch repeats it") {
    DataLoader first(d, options), second(d, options);
    first.start_epoch(3);
    second.start_epoch(3);
    Batch a, b;
    REQUIRE(first.next(&a));
    REQUIRE(second.next(&b));
    CHECK(a.host_indices == b.host_indices);
    testing::check_close(a.images, b.images, 0, "same batch");
    first.start_epoch(3);
    REQUIRE(first.next(&a));
    CHECK(a.host_indices == b.host_indices);
    first.start_epoch(4);
    REQUIRE(first.next(&a));
    CHECK(a.host_indices != b.host_indices);
  }
}

TEST_CASE("loader errors say what to do") {
  const ImageDataset d = numbered_dataset(3);
  LoaderOptions options;
  options.batch_size = 4;
  CHECK_THROWS_WITH_AS(DataLoader(d, options), doctest::Contains("lower the batch size"), Error);
  options.batch_size = 0;
  CHECK_THROWS_WITH_AS(DataLoader(d, options), doctest::Contains("at least 1"), Error);
  options.batch_size = 2;
  DataLoader loader(d, options);
  Batch batch;
  CHECK_THROWS_WITH_AS(loader.next(&batch), doctest::Contains("before start_epoch"), Error);
  if (!cuda_available()) {
    options.device = Device::cuda(0);
    CHECK_THROWS_WITH_AS(DataLoader(d, options), doctest::Contains("device=cpu"), Error);
  }
}

TEST_CASE("ranks read DistributedSampler's shards; together a step is one doubled batch") {
  // torch's DistributedSampler(shuffle=True, drop_last=True): the same order on every rank,
  // truncated to world * floor(n / world), rank r taking positions r, r + world, ...
  const int64_t n = 23;
  const std::vector<int64_t> order = epoch_order(n, 9, 2);
  for (int world : {1, 2, 3, 4}) {
    CAPTURE(world);
    const int64_t per_rank = n / world;
    std::set<int64_t> all;
    for (int r = 0; r < world; ++r) {
      const std::vector<int64_t> shard = rank_shard(order, r, world);
      REQUIRE(int64_t(shard.size()) == per_rank);
      for (int64_t i = 0; i < per_rank; ++i)
        CHECK(shard[size_t(i)] == order[size_t(r + i * world)]);
      all.insert(shard.begin(), shard.end());
    }
    CHECK(int64_t(all.size()) == per_rank * world);  // disjoint
  }
  CHECK_THROWS_WITH_AS(rank_shard(order, 2, 2), doctest::Contains("not a rank"), Error);

  // Loaders of 2 ranks with batch 3: step s of both ranks together is step s of one process with
  // batch 6 (the same positions, the ranks' rows interleaved).
  const ImageDataset d = numbered_dataset(n);
  LoaderOptions one;
  one.batch_size = 6;
  one.seed = 9;
  DataLoader single(d, one);
  LoaderOptions per_rank = one;
  per_rank.batch_size = 3;
  per_rank.world_size = 2;
  per_rank.rank = 0;
  DataLoader r0(d, per_rank);
  per_rank.rank = 1;
  DataLoader r1(d, per_rank);
  CHECK(r0.batches_per_epoch() == single.batches_per_epoch());
  CHECK(r0.shard_size() == 11);
  for (int64_t epoch : {0, 3}) {
    single.start_epoch(epoch);
    r0.start_epoch(epoch);
    r1.start_epoch(epoch);
    Batch b, b0, b1;
    while (single.next(&b)) {
      REQUIRE(r0.next(&b0));
      REQUIRE(r1.next(&b1));
      check_batch_contents(b0, d);
      for (size_t i = 0; i < 3; ++i) {
        CHECK(b0.host_indices[i] == b.host_indices[2 * i]);
        CHECK(b1.host_indices[i] == b.host_indices[2 * i + 1]);
      }
    }
    CHECK_FALSE(r0.next(&b0));
  }
  per_rank.batch_size = 12;
  CHECK_THROWS_WITH_AS(DataLoader(d, per_rank),
                       doctest::Contains("23 images, 11 for each of 2 ranks, fewer than "
                                         "batch_size=12"),
                       Error);
}
