// LARS with lightly's semantics (lightly.utils.lars.LARS, after PyTorch Lightning Bolts): SGD
// whose update of each parameter is (g + wd p) scaled by
//   trust_coefficient * |p| / (|g| + wd |p| + eps)
// before momentum. Parameters with weight decay 0 (excluded by the rule, or wd = 0) and
// parameters whose value or gradient norm is 0 take the plain gradient, unscaled.
#pragma once

#include "engine/train/optimizer.h"

namespace lumen {

struct LARSOptions {
  double lr = 0.1;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;
  double trust_coefficient = 0.001;
  double eps = 1e-8;
};

class LARS final : public Optimizer {
 public:
  LARS(ParameterBuffer& params, const LARSOptions& options,
       const WeightDecayRule& decays = decay_all);
  const LARSOptions& options() const { return options_; }

 private:
  kernels::OptimizerHyper hyper() const override;
  LARSOptions options_;
};

}  // namespace lumen
