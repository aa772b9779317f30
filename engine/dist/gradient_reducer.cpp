#include "engine/dist/gradient_reducer.h"

#include <algorithm>

namespace lumen {

namespace {
constexpr int64_t kFirstBucketBytes = int64_t(1) << 20;  // DDP's first bucket
}  // namespace

GradientReducer::GradientReducer(ParameterBuffer& params, std::shared_ptr<Communicator> comm,
                                 int64_t bucket_bytes)
    : comm_(std::move(comm)) {
  LUMEN_CHECK(params.finalized() && params.gradients().defined(),
              "GradientReducer: the parameters must be finalized with gradients");
  LUMEN_CHECK(bucket_bytes > 0, "trainer.bucket_mb must be positive, got ", bucket_bytes, " bytes");
  const Tensor grads = params.gradients();
  const int64_t element = int64_t(dtype_size(grads.dtype()));
  int64_t end = grads.numel();  // the bucket being filled ends here
  Bucket bucket;
  for (size_t i = params.size(); i-- > 0;) {
    bucket.span.start = params.offset(i);
    ++bucket.parameters;
    bucket_of_[params[i].impl()] = buckets_.size();
    const int64_t cap = buckets_.empty() ? std::min(bucket_bytes, kFirstBucketBytes) : bucket_bytes;
    if ((end - bucket.span.start) * element >= cap || i == 0) {
      bucket.span.count = end - bucket.span.start;
      bucket.gradients = grads.rows(bucket.span.start, bucket.span.count);
      buckets_.push_back(std::move(bucket));
      bucket = Bucket{};
      end = params.offset(i);
    }
  }
  for (Bucket& b : buckets_) b.pending = b.parameters;
}

std::vector<GradientReducer::Span> GradientReducer::buckets() const {
  std::vector<Span> spans;
  for (const Bucket& b : buckets_) spans.push_back(b.span);
  return spans;
}

void GradientReducer::gradient_ready(const Tensor& leaf) {
  auto it = bucket_of_.find(leaf.impl());
  if (it == bucket_of_.end()) return;  // not one of these parameters
  --buckets_[it->second].pending;
  start_ready();
}

void GradientReducer::start_ready() {
  while (next_ < buckets_.size() && buckets_[next_].pending == 0) {
    Bucket& b = buckets_[next_++];
    b.work = comm_->all_reduce_async(b.gradients, ReduceOp::mean);
    ++started_in_backward_;
  }
}

void GradientReducer::finish() {
  for (Bucket& b : buckets_) b.pending = 0;
  const int in_backward = started_in_backward_;
  start_ready();
  for (Bucket& b : buckets_) {
    b.work->wait();
    b.work.reset();
    b.pending = b.parameters;
  }
  next_ = 0;
  started_in_backward_ = 0;
  last_started_in_backward_ = in_backward;
}

}  // namespace lumen
