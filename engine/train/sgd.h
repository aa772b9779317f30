// SGD with momentum, dampening, Nesterov and L2 weight decay: torch.optim.SGD's update.
#pragma once

#include "engine/train/optimizer.h"

namespace lumen {

struct SGDOptions {
  double lr = 0.1;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;
};

class SGD final : public Optimizer {
 public:
  SGD(ParameterBuffer& params, const SGDOptions& options,
      const WeightDecayRule& decays = decay_all);
  const SGDOptions& options() const { return options_; }

 private:
  kernels::OptimizerHyper hyper() const override;
  SGDOptions options_;
};

}  // namespace lumen
