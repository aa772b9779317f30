// The MPI communicator on 2 and 4 ranks: all_reduce (sum, mean, max, min), all_gather and
// broadcast for every dtype, against values worked out here; barrier; asynchronous all_reduces in
// flight together; errors and timeouts that name the rank and the collective. Run by ctest, the
// suite starts itself under `mpirun -np 2` and `-np 4` (--oversubscribe); it exits 77 (skipped)
// where MPI or mpirun is missing.
#define DOCTEST_CONFIG_IMPLEMENT
#include <unistd.h>

#include <chrono>
#include <thread>

#include "engine/dist/launch.h"
#include "engine/dist/session.h"
#include "support/mpirun.h"
#include "support/testing.h"

using namespace lumen;

namespace {

const DType kDtypes[] = {DType::f32, DType::f64, DType::bf16, DType::f16,
                         DType::u8,  DType::i32, DType::i64};

// Rank r's element i: small integers, exact in every dtype (bf16 holds integers up to 256).
double value(int r, int64_t i) { return double((r + 1) * 3 + i % 5); }

Tensor rank_tensor(int r, int64_t n, DType dtype) {
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[size_t(i)] = value(r, i);
  return Tensor::from_vector(v, {n}, dtype);
}

const Job& job() { return current_job(); }

}  // namespace

TEST_CASE("all_reduce sum, max and min of every dtype, and mean of the float dtypes") {
  const int world = job().world_size, me = job().rank;
  REQUIRE(world > 1);
  const int64_t n = 1000;  // more than one MPI segment for small types
  for (DType dtype : kDtypes) {
    CAPTURE(dtype_name(dtype));
    for (ReduceOp op : {ReduceOp::sum, ReduceOp::max, ReduceOp::min, ReduceOp::mean}) {
      CAPTURE(reduce_op_name(op));
      if (op == ReduceOp::mean && !dtype_is_float(dtype)) continue;
      Tensor t = rank_tensor(me, n, dtype);
      job().comm->all_reduce(t, op);
      std::vector<double> expected(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) {
        double sum = 0;
        for (int r = 0; r < world; ++r) sum += value(r, i);
        expected[size_t(i)] = op == ReduceOp::sum    ? sum
                              : op == ReduceOp::mean ? sum / world
                              : op == ReduceOp::max  ? value(world - 1, i)
                                                     : value(0, i);
      }
      const Tensor want = Tensor::from_vector(expected, {n}, DType::f64).to(dtype);
      CHECK(t.to_doubles() == want.to_doubles());
    }
  }
}

TEST_CASE("all_gather of every dtype: every rank's rows in rank order") {
  const int world = job().world_size, me = job().rank;
  for (DType dtype : kDtypes) {
    CAPTURE(dtype_name(dtype));
    Tensor mine = rank_tensor(me, 6, dtype).reshape({3, 2});
    Tensor all = job().comm->all_gather(mine);
    REQUIRE(all.shape() == Shape{3 * world, 2});
    std::vector<double> expected;
    for (int r = 0; r < world; ++r) {
      for (int64_t i = 0; i < 6; ++i) expected.push_back(value(r, i));
    }
    CHECK(all.to_doubles() == expected);
  }
}

TEST_CASE("broadcast of every dtype from the first and the last rank") {
  const int world = job().world_size, me = job().rank;
  for (DType dtype : kDtypes) {
    CAPTURE(dtype_name(dtype));
    for (int root : {0, world - 1}) {
      Tensor t = rank_tensor(me, 7, dtype);
      job().comm->broadcast(t, root);
      CHECK(t.to_doubles() == rank_tensor(root, 7, dtype).to_doubles());
    }
  }
  Tensor t = rank_tensor(me, 3, DType::f32);
  CHECK_THROWS_WITH_AS(job().comm->broadcast(t, world), doctest::Contains("broadcast from rank"),
                       Error);
}

TEST_CASE("asynchronous all_reduces in flight together; barrier") {
  const int world = job().world_size, me = job().rank;
  Tensor a = Tensor::full({4096}, me + 1.0), b = Tensor::full({10}, 2.0 * me, DType::f64);
  auto work_a = job().comm->all_reduce_async(a, ReduceOp::mean);
  auto work_b = job().comm->all_reduce_async(b, ReduceOp::sum);
  work_b->wait();
  work_a->wait();
  CHECK(a.to_doubles() == std::vector<double>(4096, (world + 1) / 2.0));
  CHECK(b.to_doubles() == std::vector<double>(10, double(world * (world - 1))));
  job().comm->barrier();
  CHECK(any_rank(*job().comm, me == world - 1));
  CHECK_FALSE(any_rank(*job().comm, false));
}

TEST_CASE("errors name the rank and the collective; a collective past the timeout fails") {
  const int world = job().world_size, me = job().rank;
  Tensor ints = Tensor::full({2}, 1.0, DType::i32);
  CHECK_THROWS_WITH_AS(job().comm->all_reduce(ints, ReduceOp::mean),
                       doctest::Contains("is not defined for an integer dtype"), Error);
  // The last rank arrives 2 s late; rank 0 waits 0.5 s at most, then the barrier fails there
  // naming itself (the request stays with MPI and completes when the last rank arrives).
  const std::string expected = "rank 0 of " + std::to_string(world) + ": barrier (collective ";
  if (me == world - 1) std::this_thread::sleep_for(std::chrono::seconds(2));
  if (me == 0) {
    job().comm->set_timeout(0.5);
    CHECK_THROWS_WITH_AS(job().comm->barrier(), doctest::Contains(expected.c_str()), Error);
    CHECK_THROWS_WITH_AS(job().comm->barrier(), doctest::Contains("trainer.dist_timeout"), Error);
    job().comm->set_timeout(60);
  } else {
    job().comm->barrier();
    job().comm->barrier();
  }
  job().comm->barrier();  // everyone in step again
  // Untimed waits: the same late arrival passes; the limit comes back afterwards.
  job().comm->set_timeout(0.5);
  if (me == world - 1) std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  {
    UntimedWaits untimed(*job().comm);
    job().comm->barrier();
  }
  CHECK(job().comm->timeout() == 0.5);
  job().comm->set_timeout(60);
}

TEST_CASE("ranks agree: failures on one rank stop every rank, equal tensors are checked equal") {
  const int world = job().world_size, me = job().rank;
  check_same_on_every_rank(*job().comm, Tensor::full({100}, 2.5), "the same values");
  CHECK_THROWS_WITH_AS(check_same_on_every_rank(*job().comm, Tensor::full({100}, me == 1 ? 1 : 0),
                                                "rank-dependent values"),
                       doctest::Contains("rank-dependent values differ between the ranks"), Error);
  // Rank 1 fails: it throws its own error, the others one that names it.
  auto fail_on_1 = [&] { LUMEN_CHECK(me != 1, "rank 1's own reason"); };
  if (me == 1) {
    CHECK_THROWS_WITH_AS(run_agreed(*job().comm, "to do the thing", fail_on_1),
                         doctest::Contains("rank 1's own reason"), Error);
  } else {
    CHECK_THROWS_WITH_AS(run_agreed(*job().comm, "to do the thing", fail_on_1),
                         doctest::Contains("rank 1 failed to do the thing"), Error);
  }
  // Rank 0 alone runs it; nobody fails.
  int runs = 0;
  run_agreed(
      *job().comm, "to count", [&] { ++runs; }, /*rank_zero_only=*/true);
  CHECK(runs == (me == 0 ? 1 : 0));
  CHECK(world > 1);
}

int main(int argc, char** argv) {
  if (mpi_launcher().empty()) {
    const std::string missing = testing::mpirun_missing();
    if (!missing.empty()) return testing::skip_suite(missing);
    return testing::run_self_under_mpirun(argv[0], {2, 4});
  }
  DataParallelSession session;
  job().comm->set_timeout(60);  // a rank that failed a REQUIRE midway must not hang the others
  doctest::Context context(argc, argv);
  if (job().rank != 0) context.setOption("out", "/dev/null");  // one rank reports, all check
  const int failed = context.run();
  // Every rank's verdict counts: the run fails when any rank failed.
  return any_rank(*job().comm, failed != 0) ? 1 : 0;
}
