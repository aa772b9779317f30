// AdamW: torch.optim.AdamW's update (decoupled weight decay, bias-corrected moments, no amsgrad).
#pragma once

#include "engine/train/optimizer.h"

namespace lumen {

struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 1e-2;
};

class AdamW final : public Optimizer {
 public:
  AdamW(ParameterBuffer& params, const AdamWOptions& options,
        const WeightDecayRule& decays = decay_all);
  const AdamWOptions& options() const { return options_; }

 private:
  kernels::OptimizerHyper hyper() const override;
  AdamWOptions options_;
};

}  // namespace lumen
