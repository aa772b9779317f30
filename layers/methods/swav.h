// SwaV as lightly's CIFAR-10 benchmark wires it (SwaVModel): backbone -> SwaVProjectionHead(D,
// 512, 128) -> L2 normalisation -> SwaVPrototypes(128, 512); before each step the prototypes are
// normalised (lightly's prototypes.normalize() at the start of training_step); every crop goes
// through the network on its own (its own batch norm statistics, as lightly's per-crop forward);
// the first high_resolution_crops crops (SwaVTransform's first crop category) are the
// high-resolution ones whose Sinkhorn codes are the targets, the others only predict; SwaVLoss
// (temperature 0.1, 3 Sinkhorn iterations, epsilon 0.05).
// Optional, lightly's SwaVQueue example (SwaVQueueModel): one queue of queue_length earlier
// high-resolution projections per high-resolution crop, scored by the prototypes (no gradient)
// and appended to that crop's rows in the Sinkhorn from epoch start_queue_at_epoch on, and the
// prototypes frozen for the first frozen_prototype_epochs epochs (the example's
// SwaVPrototypes(128, 512, 1) given the epoch as its step).
// Entries: backbone.*, projection_head.*, prototypes.heads.0.*, and with a queue
// queues.<i>.bank (queue_length, 128), queues.<i>.pointer.
#pragma once

#include <memory>

#include "layers/heads.h"
#include "layers/methods/method.h"
#include "layers/swav_prototypes.h"
#include "losses/swav.h"
#include "losses/swav_queue.h"

namespace lumen {

struct SwaVMethodOptions {
  int64_t hidden_dim = 512;
  int64_t out_dim = 128;
  int64_t n_prototypes = 512;
  int64_t high_resolution_crops = 2;  // the first views; the rest are low resolution
  SwaVOptions loss;
  int64_t frozen_prototype_epochs = 0;  // lightly's benchmark: 0; its queue example: 1
  int64_t queue_length = 0;             // rows per queue; 0: no queue (the benchmark)
  int64_t start_queue_at_epoch = 0;
  uint64_t seed = 0;  // of the queues' random start
};

class SwaV : public Method {
 public:
  // comm: the job's communicator on the training device (sinkhorn_gather_distributed, the
  // queues' gathering); null: one process.
  SwaV(const Backbone& backbone, const SwaVMethodOptions& options,
       std::shared_ptr<Communicator> comm = nullptr);

  void setup(ParameterBuffer& params, Device device, uint64_t seed) override;
  void prepare_step(const MethodStep& step) override;
  Tensor training_loss(const std::vector<Tensor>& views) override;
  std::vector<std::string> frozen_parameters(const MethodStep& step) override;
  NamedTensors extra_state() override;
  std::string graph_blocker() const override;

 private:
  // (N, H, W, 3) -> the L2-normalised projection (N, out_dim)
  Tensor project(const Tensor& x);

  SwaVMethodOptions options_;
  ProjectionHead* head_;
  SwaVPrototypes* prototypes_;
  SwaVLoss criterion_;
  std::unique_ptr<SwaVQueue> queue_;
  int64_t epoch_ = 0;
};

}  // namespace lumen
