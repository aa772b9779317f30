// Communicators: the single-process one, and ranks as threads of one process (InProcessGroup).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/testing.h"

#include <thread>

#include "engine/dist/in_process_group.h"

using namespace lumen;

TEST_CASE("single-process communicator: rank 0 of 1, gather copies, reduce keeps") {
  auto comm = single_process_communicator();
  CHECK(comm->rank() == 0);
  CHECK(comm->world_size() == 1);
  Tensor x = Tensor::normal({3, 2}, 1);
  testing::check_close(comm->all_gather(x), x, 0, "all_gather");
  Tensor y = x.clone();
  comm->all_reduce(y, ReduceOp::mean);
  testing::check_close(y, x, 0, "all_reduce");
  Tensor wrong = Tensor::empty({4, 2});
  CHECK_THROWS_WITH_AS(comm->all_gather(x, wrong), doctest::Contains("(3, 2)"), Error);
}

TEST_CASE("in-process group: all_gather in rank order, all_reduce sum and mean on every rank") {
  const int world = 3;
  auto group = InProcessGroup::create(world);
  std::vector<Tensor> gathered(world), summed(world), averaged(world);
  std::vector<std::thread> threads;
  for (int r = 0; r < world; ++r) {
    threads.emplace_back([&, r] {
      auto comm = group->communicator(r);
      CHECK(comm->rank() == r);
      CHECK(comm->world_size() == world);
      Tensor mine = Tensor::full({2, 2}, double(r + 1));
      gathered[r] = comm->all_gather(mine);
      summed[r] = mine.clone();
      comm->all_reduce(summed[r], ReduceOp::sum);
      averaged[r] = mine.clone();
      comm->all_reduce(averaged[r], ReduceOp::mean);
    });
  }
  for (auto& t : threads) t.join();
  std::vector<double> expected_gather;
  for (int r = 0; r < world; ++r) expected_gather.insert(expected_gather.end(), 4, double(r + 1));
  for (int r = 0; r < world; ++r) {
    CAPTURE(r);
    CHECK(gathered[r].to_doubles() == expected_gather);
    CHECK(summed[r].to_doubles() == std::vector<double>(4, 6.0));
    CHECK(averaged[r].to_doubles() == std::vector<double>(4, 2.0));
  }
  CHECK_THROWS_AS(group->communicator(world), Error);
  CHECK_THROWS_AS(InProcessGroup::create(0), Error);
}

TEST_CASE("single-process communicator: broadcast keeps, barrier returns, max/min keep") {
  auto comm = single_process_communicator();
  Tensor x = Tensor::normal({4}, 2);
  Tensor y = x.clone();
  comm->broadcast(y, 0);
  testing::check_close(y, x, 0, "broadcast");
  comm->barrier();
  comm->all_reduce(y, ReduceOp::max);
  testing::check_close(y, x, 0, "max");
  CHECK_THROWS_WITH_AS(comm->broadcast(y, 1), doctest::Contains("broadcast from rank 1"), Error);
  Tensor ints = Tensor::full({2}, 3.0, DType::i32);
  CHECK_THROWS_WITH_AS(comm->all_reduce(ints, ReduceOp::mean), doctest::Contains("integer dtype"),
                       Error);
  CHECK(any_rank(*comm, true));
  CHECK_FALSE(any_rank(*comm, false));
}

TEST_CASE("in-process group: broadcast from any root, max and min, every dtype") {
  const int world = 3;
  auto group = InProcessGroup::create(world);
  const DType dtypes[] = {DType::f32, DType::f64, DType::bf16, DType::f16,
                          DType::u8,  DType::i32, DType::i64};
  std::vector<std::vector<std::vector<double>>> seen(world);
  std::vector<std::thread> threads;
  for (int r = 0; r < world; ++r) {
    threads.emplace_back([&, r] {
      auto comm = group->communicator(r);
      for (DType dtype : dtypes) {
        Tensor b = Tensor::full({3}, 10.0 + r, dtype);
        comm->broadcast(b, 2);
        Tensor mx = Tensor::from_vector(std::vector<double>{double(r), double(5 - r)}, {2}, dtype);
        Tensor mn = mx.clone();
        comm->all_reduce(mx, ReduceOp::max);
        comm->all_reduce(mn, ReduceOp::min);
        comm->barrier();
        seen[r].push_back(b.to_doubles());
        seen[r].push_back(mx.to_doubles());
        seen[r].push_back(mn.to_doubles());
      }
      CHECK(any_rank(*comm, r == 1));
    });
  }
  for (auto& t : threads) t.join();
  for (int r = 0; r < world; ++r) {
    CAPTURE(r);
    for (size_t d = 0; d < 7; ++d) {
      CHECK(seen[r][3 * d] == std::vector<double>(3, 12.0));
      CHECK(seen[r][3 * d + 1] == std::vector<double>{2.0, 5.0});
      CHECK(seen[r][3 * d + 2] == std::vector<double>{0.0, 3.0});
    }
  }
}
