// NNCLR as lightly's CIFAR-10 benchmark wires it: backbone -> a 2-layer projection (Linear -> BN
// -> ReLU -> Linear -> BN, D -> 2048 -> 256) -> NNCLRPredictionHead(256, 4096, 256); each
// projection is replaced by its nearest neighbour in a support set of 4096 earlier projections
// (lightly's NNMemoryBankModule: view 0 looks up without updating, view 1 looks up, then is
// enqueued); NT-Xent (temperature 0.5) between neighbours and the other view's predictions,
// symmetric: 0.5 * (L(nn(z0), p1) + L(nn(z1), p0)). Entries: backbone.*, projection_head.*,
// prediction_head.*, memory_bank.bank, memory_bank.pointer.
#pragma once

#include "layers/heads.h"
#include "layers/methods/method.h"
#include "layers/nn_memory_bank.h"
#include "losses/ntxent.h"

namespace lumen {

struct NNCLROptions {
  int64_t hidden_dim = 2048;
  int64_t out_dim = 256;
  int64_t prediction_hidden_dim = 4096;
  double temperature = 0.5;
  int64_t memory_bank_size = 4096;
  uint64_t seed = 0;                // of the support set's random start
  bool gather_distributed = false;  // NT-Xent against every rank's rows (lightly's)
};

class NNCLR : public Method {
 public:
  // comm: the job's communicator on the training device (gather_distributed); null: one process.
  NNCLR(const Backbone& backbone, const NNCLROptions& options,
        std::shared_ptr<Communicator> comm = nullptr);

  void setup(ParameterBuffer& params, Device device, uint64_t seed) override;
  Tensor training_loss(const std::vector<Tensor>& views) override;
  NamedTensors extra_state() override;
  std::string graph_blocker() const override {
    return "the support set's FIFO position is kept on the host";
  }

 private:
  NNCLROptions options_;
  ProjectionHead* head_;
  ProjectionHead* predictor_;
  NNMemoryBank support_;
  NTXentLoss criterion_;
};

}  // namespace lumen
