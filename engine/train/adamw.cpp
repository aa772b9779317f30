#include "engine/train/adamw.h"

#include <cmath>

namespace lumen {

AdamW::AdamW(ParameterBuffer& params, const AdamWOptions& options, const WeightDecayRule& decays)
    : AdamW(params, "AdamW", options, decays, kernels::OptimizerKind::adamw) {}

AdamW::AdamW(ParameterBuffer& params, const char* name, const AdamWOptions& options,
             const WeightDecayRule& decays, kernels::OptimizerKind kind)
    : Optimizer(params, name, options.lr, options.weight_decay, decays, {"exp_avg", "exp_avg_sq"}),
      options_(options),
      kind_(kind) {
  LUMEN_CHECK(options.beta1 >= 0 && options.beta1 < 1 && options.beta2 >= 0 && options.beta2 < 1,
              name, ": betas must lie in [0, 1), got (", options.beta1, ", ", options.beta2, ")");
  LUMEN_CHECK(std::isfinite(options.eps) && options.eps >= 0, name, ": eps must be >= 0, got ",
              options.eps);
}

kernels::OptimizerHyper AdamW::hyper() const {
  kernels::OptimizerHyper h;
  h.kind = kind_;
  h.beta1 = options_.beta1;
  h.beta2 = options_.beta2;
  h.eps = options_.eps;
  const double t = double(steps_taken() + 1);  // this step's number, from 1
  h.bias_correction1 = 1 - std::pow(options_.beta1, t);
  h.sqrt_bias_correction2 = std::sqrt(1 - std::pow(options_.beta2, t));
  return h;
}

}  // namespace lumen
