// The NCCL communicator on the GPUs present, one rank per GPU, against the MPI communicator's
// results on the same values (on a machine with one GPU: one rank, against the single-process
// result). With several GPUs and mpirun the case starts itself under `mpirun -np <GPUs>`.
#include <cstdlib>

#include "engine/dist/launch.h"
#include "engine/dist/nccl_communicator.h"
#include "engine/dist/session.h"
#include "support/mpirun.h"
#include "support/testing.h"

using namespace lumen;

namespace {
const DType kDtypes[] = {DType::f32, DType::f64, DType::bf16, DType::f16,
                         DType::u8,  DType::i32, DType::i64};

Tensor rank_values(int rank, int64_t n, DType dtype, Device device) {
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[size_t(i)] = double((rank + 1) * 3 + i % 5);
  return Tensor::from_vector(v, {n}, dtype).to(device);
}
}  // namespace

TEST_CASE("NCCL all_reduce, all_gather, broadcast and barrier equal MPI's, every dtype") {
  if (!testing::cuda_or_skip()) return;
  const int gpus = cuda_device_count();
  if (mpi_launcher().empty() && gpus > 1 && testing::mpirun_missing().empty()) {
    const std::string command = testing::mpirun_prefix(gpus) + "/proc/self/exe";
    CHECK(std::system(command.c_str()) == 0);
    return;
  }
  DataParallelSession session;
  const Job& job = current_job();
  const Device gpu = Device::cuda(job.local_rank % gpus);
  auto nccl = make_nccl_communicator(*job.comm, gpu.index);
  REQUIRE(nccl->world_size() == job.world_size);
  CHECK(nccl->rank() == job.rank);
  for (DType dtype : kDtypes) {
    CAPTURE(dtype_name(dtype));
    for (ReduceOp op : {ReduceOp::sum, ReduceOp::mean, ReduceOp::max, ReduceOp::min}) {
      if (op == ReduceOp::mean && !dtype_is_float(dtype)) continue;
      CAPTURE(reduce_op_name(op));
      Tensor on_gpu = rank_values(job.rank, 4099, dtype, gpu);
      Tensor on_cpu = rank_values(job.rank, 4099, dtype, Device::cpu());
      nccl->all_reduce(on_gpu, op);
      job.comm->all_reduce(on_cpu, op);
      CHECK(on_gpu.to_doubles() == on_cpu.to_doubles());
    }
    Tensor mine = rank_values(job.rank, 6, dtype, gpu).reshape({3, 2});
    CHECK(nccl->all_gather(mine).to_doubles() ==
          job.comm->all_gather(mine.to(Device::cpu())).to_doubles());
    Tensor b = rank_values(job.rank, 5, dtype, gpu);
    nccl->broadcast(b, job.world_size - 1);
    CHECK(b.to_doubles() == rank_values(job.world_size - 1, 5, dtype, Device::cpu()).to_doubles());
  }
  Tensor a = rank_values(job.rank, 1 << 20, DType::f32, gpu);
  Tensor expected = a.to(Device::cpu());
  auto work = nccl->all_reduce_async(a, ReduceOp::sum);
  work->wait();
  job.comm->all_reduce(expected, ReduceOp::sum);
  CHECK(a.to_doubles() == expected.to_doubles());
  nccl->barrier();
  Tensor host = Tensor::zeros({2});
  CHECK_THROWS_WITH_AS(nccl->all_reduce(host), doctest::Contains("CPU tensors go through MPI"),
                       Error);
}
