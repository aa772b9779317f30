// The NCCL communicator (see engine/dist/nccl_communicator.h).
#include <cuda_runtime_api.h>
#include <nccl.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

#include "engine/core/device.h"
#include "engine/dist/mpi_runtime.h"
#include "engine/dist/nccl_communicator.h"

namespace lumen {

std::string nccl_version() {
  int v = 0;
  if (ncclGetVersion(&v) != ncclSuccess) return "";
  // NCCL >= 2.9 encodes major * 10000 + minor * 100 + patch.
  return std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." +
         std::to_string(v % 100);
}

namespace {

using Clock = std::chrono::steady_clock;

ncclDataType_t nccl_type(DType t) {
  switch (t) {
    case DType::f32:
      return ncclFloat32;
    case DType::f64:
      return ncclFloat64;
    case DType::bf16:
      return ncclBfloat16;
    case DType::f16:
      return ncclFloat16;
    case DType::u8:
      return ncclUint8;
    case DType::i32:
      return ncclInt32;
    case DType::i64:
      return ncclInt64;
  }
  LUMEN_FAIL("no NCCL type for dtype ", int(t));
}

ncclRedOp_t nccl_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum:
      return ncclSum;
    case ReduceOp::mean:
      return ncclAvg;
    case ReduceOp::max:
      return ncclMax;
    case ReduceOp::min:
      return ncclMin;
  }
  return ncclSum;
}

// Makes `device` current for its lifetime.
class OnDevice {
 public:
  explicit OnDevice(int device) {
    cudaGetDevice(&previous_);
    if (previous_ != device) cudaSetDevice(device);
  }
  ~OnDevice() { cudaSetDevice(previous_); }

 private:
  int previous_ = 0;
};

// A collective the watchdog follows: done once `finished` has completed on the GPU.
struct InFlight {
  cudaEvent_t finished = nullptr;
  Clock::time_point start;
  std::string what;
  uint64_t number = 0;
};

// A collective queued on the NCCL stream; wait() orders the tensor's stream after it.
class NcclWork final : public CollectiveWork {
 public:
  NcclWork(Tensor t, cudaEvent_t finished) : t_(std::move(t)), finished_(finished) {}
  ~NcclWork() override { cudaEventDestroy(finished_); }
  void wait() override;

 private:
  Tensor t_;  // kept alive until the collective is ordered before the tensor's stream
  cudaEvent_t finished_;
};

class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(Communicator& bootstrap, int device)
      : device_(device), rank_(bootstrap.rank()), size_(bootstrap.world_size()) {
    ncclUniqueId id;
    Tensor bytes = Tensor::zeros({int64_t(sizeof(id))}, DType::u8);
    if (rank_ == 0) {
      check(ncclGetUniqueId(&id), "ncclGetUniqueId", "setting up NCCL");
      std::memcpy(bytes.raw_data(), &id, sizeof(id));
    }
    bootstrap.broadcast(bytes, 0);
    std::memcpy(&id, bytes.raw_data(), sizeof(id));
    OnDevice on(device_);
    LUMEN_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    LUMEN_CUDA_CHECK(cudaEventCreateWithFlags(&ready_, cudaEventDisableTiming));
    timeout_.store(bootstrap.timeout() > 0 ? bootstrap.timeout() : 600);
    initializing_since_ = Clock::now();
    watchdog_ = std::thread([this] { watch(); });  // an init that never returns is caught too
    check(ncclCommInitRank(&comm_, size_, id, rank_), "ncclCommInitRank", "setting up NCCL");
    initialized_.store(true);
  }
  ~NcclCommunicator() override {
    stop_.store(true);
    if (watchdog_.joinable()) watchdog_.join();
    OnDevice on(device_);
    if (comm_ != nullptr) ncclCommDestroy(comm_);
    for (InFlight& f : in_flight_) cudaEventDestroy(f.finished);
    cudaEventDestroy(ready_);
    cudaStreamDestroy(stream_);
  }

  int rank() const override { return rank_; }
  int world_size() const override { return size_; }
  void set_timeout(double seconds) override { timeout_.store(seconds); }
  double timeout() const override { return timeout_.load(); }

  void all_gather(const Tensor& in, Tensor& out) override {
    check_all_gather_shapes(in, out, size_, "NCCL all_gather");
    const std::string what = describe("all_gather", in);
    finish(enqueue(in, what, [&](cudaStream_t s) {
      check(ncclAllGather(in.raw_data(), out.raw_data(), size_t(in.numel()), nccl_type(in.dtype()),
                          comm_, s),
            "ncclAllGather", what);
    }));
  }

  void all_reduce(Tensor& t, ReduceOp op) override { all_reduce_async(t, op)->wait(); }

  std::unique_ptr<CollectiveWork> all_reduce_async(Tensor& t, ReduceOp op) override {
    check_all_reduce_args(t, op, "NCCL all_reduce");
    const std::string what = describe(std::string("all_reduce ") + reduce_op_name(op), t);
    cudaEvent_t finished = enqueue(t, what, [&](cudaStream_t s) {
      check(ncclAllReduce(t.raw_data(), t.raw_data(), size_t(t.numel()), nccl_type(t.dtype()),
                          nccl_op(op), comm_, s),
            "ncclAllReduce", what);
    });
    return std::make_unique<NcclWork>(t, finished);
  }

  void broadcast(Tensor& t, int root) override {
    check_broadcast_args(t, root, size_, "NCCL broadcast");
    const std::string what = describe("broadcast from rank " + std::to_string(root), t);
    finish(enqueue(t, what, [&](cudaStream_t s) {
      check(ncclBroadcast(t.raw_data(), t.raw_data(), size_t(t.numel()), nccl_type(t.dtype()), root,
                          comm_, s),
            "ncclBroadcast", what);
    }));
  }

  // NCCL has no barrier: an all_reduce of one element, waited for on the host.
  void barrier() override {
    Tensor one = Tensor::zeros({1}, DType::f32, Device::cuda(device_));
    all_reduce(one, ReduceOp::sum);
    cudaStream_t s = stream_of(one);
    cudaEvent_t done = nullptr;
    OnDevice on(device_);
    LUMEN_CUDA_CHECK(cudaEventCreateWithFlags(&done, cudaEventDisableTiming));
    LUMEN_CUDA_CHECK(cudaEventRecord(done, s));
    // The watchdog ends the job if the all_reduce never finishes; until then, wait politely.
    while (cudaEventQuery(done) == cudaErrorNotReady) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    cudaEventDestroy(done);
  }

 private:
  std::string who() const {
    return "rank " + std::to_string(rank_) + " of " + std::to_string(size_);
  }

  void check(ncclResult_t result, const char* call, const std::string& what) const {
    if (result == ncclSuccess) return;
    const char* detail = comm_ != nullptr ? ncclGetLastError(comm_) : nullptr;
    LUMEN_FAIL(who(), ": ", what, " failed in ", call, ": ", ncclGetErrorString(result),
               detail != nullptr && *detail ? std::string(" (") + detail + ")" : std::string());
  }

  std::string describe(const std::string& name, const Tensor& t) {
    LUMEN_CHECK(t.is_cuda() && t.device().index == device_, who(), ": NCCL ", name, " of ", t.str(),
                ": this communicator moves tensors on cuda:", device_,
                " (CPU tensors go through MPI)");
    char size[32];
    std::snprintf(size, sizeof(size), "%.1f MB", double(t.nbytes()) / (1 << 20));
    return "NCCL " + name + " of " + t.str() + " (" + size + ", collective " +
           std::to_string(++collectives_) + ")";
  }

  // Queues `call` on the NCCL stream after the work queued so far on t's stream; returns the
  // event that completes with it (followed by the watchdog unless a graph is being captured).
  template <typename Call>
  cudaEvent_t enqueue(const Tensor& t, const std::string& what, Call&& call) {
    OnDevice on(device_);
    cudaStream_t compute = stream_of(t);
    LUMEN_CUDA_CHECK(cudaEventRecord(ready_, compute));
    LUMEN_CUDA_CHECK(cudaStreamWaitEvent(stream_, ready_, 0));
    call(stream_);
    cudaEvent_t finished = nullptr;
    LUMEN_CUDA_CHECK(cudaEventCreateWithFlags(&finished, cudaEventDisableTiming));
    LUMEN_CUDA_CHECK(cudaEventRecord(finished, stream_));
    cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
    LUMEN_CUDA_CHECK(cudaStreamIsCapturing(compute, &capture));
    if (capture == cudaStreamCaptureStatusNone) {
      cudaEvent_t followed = nullptr;
      LUMEN_CUDA_CHECK(cudaEventCreateWithFlags(&followed, cudaEventDisableTiming));
      LUMEN_CUDA_CHECK(cudaEventRecord(followed, stream_));
      std::lock_guard<std::mutex> lock(mutex_);
      in_flight_.push_back({followed, Clock::now(), what, collectives_});
    }
    last_stream_ = compute;
    return finished;
  }

  // Orders the stream the collective was queued from after it.
  void finish(cudaEvent_t finished) {
    OnDevice on(device_);
    const cudaError_t status = cudaStreamWaitEvent(last_stream_, finished, 0);
    cudaEventDestroy(finished);
    LUMEN_CUDA_CHECK(status);
  }

  [[noreturn]] void fault(const std::string& message) {
    std::fprintf(stderr, "\nlumen: error: %s: %s; aborting NCCL and ending the job\n",
                 who().c_str(), message.c_str());
    std::fflush(stderr);
    if (comm_ != nullptr) ncclCommAbort(comm_);
    mpi::abort_job(1);
  }

  // Every 100 ms: NCCL's asynchronous errors, and collectives past their deadline.
  void watch() {
    cudaSetDevice(device_);
    while (!stop_.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      const double limit = timeout_.load();
      const Clock::time_point now = Clock::now();
      if (!initialized_.load()) {
        const double waited = std::chrono::duration<double>(now - initializing_since_).count();
        if (limit > 0 && waited > limit) {
          fault("ncclCommInitRank has waited " + std::to_string(int64_t(waited)) +
                " s for the other ranks (trainer.dist_timeout)");
        }
        continue;
      }
      ncclResult_t async = ncclSuccess;
      if (ncclCommGetAsyncError(comm_, &async) == ncclSuccess && async != ncclSuccess &&
          async != ncclInProgress) {
        const char* detail = ncclGetLastError(comm_);
        fault(std::string("NCCL reports an asynchronous error: ") + ncclGetErrorString(async) +
              (detail != nullptr && *detail ? std::string(" (") + detail + ")" : ""));
      }
      std::lock_guard<std::mutex> lock(mutex_);
      while (!in_flight_.empty() && cudaEventQuery(in_flight_.front().finished) == cudaSuccess) {
        cudaEventDestroy(in_flight_.front().finished);
        in_flight_.pop_front();
      }
      if (!in_flight_.empty()) {
        const InFlight& f = in_flight_.front();
        const double waited = std::chrono::duration<double>(now - f.start).count();
        if (limit > 0 && waited > limit) {
          fault(f.what + " has not finished after " + std::to_string(int64_t(waited)) +
                " s (trainer.dist_timeout): a rank stopped or hung, or the ranks called different "
                "collectives");
        }
      }
    }
  }

  int device_, rank_, size_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  cudaStream_t last_stream_ = nullptr;
  cudaEvent_t ready_ = nullptr;
  uint64_t collectives_ = 0;
  std::atomic<double> timeout_{600};
  std::atomic<bool> initialized_{false}, stop_{false};
  Clock::time_point initializing_since_;
  std::mutex mutex_;
  std::deque<InFlight> in_flight_;
  std::thread watchdog_;
};

void NcclWork::wait() { LUMEN_CUDA_CHECK(cudaStreamWaitEvent(stream_of(t_), finished_, 0)); }

}  // namespace

std::shared_ptr<Communicator> make_nccl_communicator(Communicator& bootstrap, int device) {
  LUMEN_CHECK(device >= 0, "make_nccl_communicator: device ", device, " is not a CUDA device");
  return std::make_shared<NcclCommunicator>(bootstrap, device);
}

}  // namespace lumen
