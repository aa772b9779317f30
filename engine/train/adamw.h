// Adam and AdamW: torch.optim.Adam's and torch.optim.AdamW's updates (bias-corrected moments, no
// amsgrad). AdamW decays the weights apart from the gradient (decoupled); Adam adds wd * p to the
// gradient (L2, coupled), as lightly's SwaV benchmark trains with it.
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

// torch.optim.Adam's defaults: as AdamW's but no weight decay.
struct AdamOptions : AdamWOptions {
  AdamOptions() { weight_decay = 0; }
};

class AdamW : public Optimizer {
 public:
  AdamW(ParameterBuffer& params, const AdamWOptions& options,
        const WeightDecayRule& decays = decay_all);
  const AdamWOptions& options() const { return options_; }

 protected:
  AdamW(ParameterBuffer& params, const char* name, const AdamWOptions& options,
        const WeightDecayRule& decays, kernels::OptimizerKind kind);

 private:
  kernels::OptimizerHyper hyper() const override;
  AdamWOptions options_;
  kernels::OptimizerKind kind_;
};

class Adam final : public AdamW {
 public:
  Adam(ParameterBuffer& params, const AdamOptions& options,
       const WeightDecayRule& decays = decay_all)
      : AdamW(params, "Adam", options, decays, kernels::OptimizerKind::adam) {}
};

}  // namespace lumen
