// All-reduce bandwidth by message size, as nccl-tests reports it: for each size the median time of
// an in-place sum all-reduce of f32, the algorithm bandwidth (bytes / time) and the bus bandwidth
// (algbw * 2 (n - 1) / n, the rate each rank's link must move for a ring all-reduce, comparable
// across rank counts). Also the time of the per-step agreement of `lumen train` (an all_reduce of
// three f64 on the CPU communicator).
//
//   mpirun -np N bench_allreduce [--device cpu|cuda] [--min 4096] [--max 268435456] [--iters 20]
//                                [--warmup 5]
//   cpu: the MPI communicator (CPU tensors); cuda: NCCL, one rank per GPU (rank's local rank).
// Rank 0 prints a markdown table. Without a launcher it runs one rank (a bus bandwidth of 0).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "engine/core/device.h"
#include "engine/dist/mpi_runtime.h"
#include "engine/dist/nccl_communicator.h"
#include "engine/dist/session.h"

using namespace lumen;

namespace {

struct Options {
  std::string device = "cpu";
  int64_t min_bytes = 4096, max_bytes = int64_t(256) << 20;
  int iters = 20, warmup = 5;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--device") {
      o.device = v;
    } else if (k == "--min") {
      o.min_bytes = std::atoll(v.c_str());
    } else if (k == "--max") {
      o.max_bytes = std::atoll(v.c_str());
    } else if (k == "--iters") {
      o.iters = std::atoi(v.c_str());
    } else if (k == "--warmup") {
      o.warmup = std::atoi(v.c_str());
    } else {
      LUMEN_FAIL("bench_allreduce: unknown option ", k);
    }
  }
  return o;
}

std::string size_text(double bytes) {
  char t[32];
  if (bytes >= 1 << 20) {
    std::snprintf(t, sizeof(t), "%.0f MB", bytes / (1 << 20));
  } else {
    std::snprintf(t, sizeof(t), "%.0f KB", bytes / 1024);
  }
  return t;
}

// Median seconds of `op` over iters runs after warmup runs, every rank starting together; the
// slowest rank's time counts (a collective ends when its last rank does).
template <typename Op>
double median_seconds(Communicator& host, const Options& o, Op&& op) {
  for (int i = 0; i < o.warmup; ++i) op();
  std::vector<double> times;
  for (int i = 0; i < o.iters; ++i) {
    host.barrier();
    const auto t0 = std::chrono::steady_clock::now();
    op();
    Tensor t = Tensor::full(
        {1}, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
        DType::f64);
    host.all_reduce(t, ReduceOp::max);
    times.push_back(t.data<double>()[0]);
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options o = parse(argc, argv);
    DataParallelSession session;
    const Job& job = current_job();
    Communicator& host = *job.comm;
    const int n = job.world_size;
    std::shared_ptr<Communicator> comm = job.comm;
    Device device = Device::cpu();
    if (o.device == "cuda") {
      const int gpus = cuda_device_count();
      LUMEN_CHECK(gpus > 0, "bench_allreduce --device cuda: no CUDA device");
      device = Device::cuda(job.local_rank % gpus);
      comm = make_nccl_communicator(host, device.index);
    }
    if (job.rank == 0) {
      std::printf("all-reduce (sum, f32, in place) over %d rank%s, %s (%s)\n\n", n,
                  n == 1 ? "" : "s", o.device == "cuda" ? "NCCL" : "MPI",
                  o.device == "cuda" ? nccl_version().c_str() : mpi::library_version().c_str());
      std::printf(
          "| size | time (us) | algbw (GB/s) | busbw (GB/s) |\n| --- | --- | --- | --- |\n");
    }
    for (int64_t bytes = o.min_bytes; bytes <= o.max_bytes; bytes *= 4) {
      Tensor t = Tensor::full({bytes / 4}, 1.0, DType::f32, device);
      const double s = median_seconds(host, o, [&] {
        comm->all_reduce(t, ReduceOp::sum);
        if (device.is_cuda()) (void)t.rows(0, 1).item();  // waits for the GPU
      });
      const double algbw = double(bytes) / s / 1e9;
      if (job.rank == 0) {
        std::printf("| %s | %.1f | %.2f | %.2f |\n", size_text(double(bytes)).c_str(), s * 1e6,
                    algbw, algbw * 2.0 * (n - 1) / n);
      }
    }
    // The per-step agreement of lumen train: loss and stop signals, three f64 on the CPU.
    Tensor three = Tensor::zeros({3}, DType::f64);
    const double agree = median_seconds(host, o, [&] { host.all_reduce(three, ReduceOp::sum); });
    if (job.rank == 0) {
      std::printf("\nper-step agreement (all_reduce of 3 f64, CPU): %.1f us\n", agree * 1e6);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_allreduce (rank %d): %s\n", current_job().rank, e.what());
    if (current_job().world_size > 1) mpi::abort_job(1);  // the other ranks wait for this one
    return 1;
  }
}
