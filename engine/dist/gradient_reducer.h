// Averages the gradients of a ParameterBuffer over the ranks of a communicator, as PyTorch's
// DistributedDataParallel does:
//   - the flat gradient buffer is cut, at parameter boundaries, into buckets of about
//     bucket_bytes, from its end (backward completes the last layers' gradients first); the first
//     bucket is at most 1 MB, so that communication starts early (DDP's first bucket);
//   - as a GradientObserver (engine/autograd/tape.h) it hears when each parameter's gradient is
//     complete during backward, and starts a bucket's all-reduce (mean) once all its gradients
//     are, buckets in order (every rank starts the same collectives in the same order). On the
//     GPU (NCCL) the all-reduces run on their own stream while backward continues; on the CPU
//     (MPI) they progress when waited for;
//   - finish() starts the buckets not started (parameters backward never reached keep their
//     gradients, zero after zero_grad, and are averaged too) and waits for every one.
//
//   GradientReducer reducer(params, comm, 25 << 20);
//   { ObserveGradients watch(&reducer); loss.backward(); }
//   reducer.finish();  // every gradient is now the mean over the ranks
#pragma once

#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/autograd/parameters.h"
#include "engine/autograd/tape.h"
#include "engine/dist/communicator.h"

namespace lumen {

class GradientReducer final : public GradientObserver {
 public:
  GradientReducer(ParameterBuffer& params, std::shared_ptr<Communicator> comm,
                  int64_t bucket_bytes);

  void gradient_ready(const Tensor& leaf) override;
  void finish();

  struct Span {
    int64_t start, count;  // elements of the flat gradient buffer
  };
  // The buckets in the order their all-reduces start.
  std::vector<Span> buckets() const;
  // Buckets the last backward started before finish(): the overlap achieved.
  int started_in_backward() const { return last_started_in_backward_; }

 private:
  struct Bucket {
    Span span;
    int parameters = 0;  // how many it holds
    int pending = 0;     // of them, not complete yet in this step
    Tensor gradients;    // its view of the flat buffer
    std::unique_ptr<CollectiveWork> work;
  };
  void start_ready();

  std::shared_ptr<Communicator> comm_;
  std::vector<Bucket> buckets_;
  std::unordered_map<TensorImpl*, size_t> bucket_of_;  // parameter -> its bucket
  size_t next_ = 0;                                    // the next bucket to start
  int started_in_backward_ = 0;                        // in the backward under way
  int last_started_in_backward_ = 0;
};

}  // namespace lumen
