#include "engine/train/lars.h"

#include <cmath>

namespace lumen {

LARS::LARS(ParameterBuffer& params, const LARSOptions& options, const WeightDecayRule& decays)
    : Optimizer(params, "LARS", options.lr, options.weight_decay, decays,
                options.momentum == 0 ? std::vector<std::string>{}
                                      : std::vector<std::string>{"momentum_buffer"}),
      options_(options) {
  LUMEN_CHECK(std::isfinite(options.momentum) && options.momentum >= 0,
              "LARS: momentum must be >= 0, got ", options.momentum);
  LUMEN_CHECK(!options.nesterov || (options.momentum > 0 && options.dampening == 0),
              "LARS: Nesterov momentum requires momentum > 0 and dampening 0");
  LUMEN_CHECK(std::isfinite(options.trust_coefficient) && options.trust_coefficient > 0,
              "LARS: trust_coefficient must be > 0, got ", options.trust_coefficient);
  LUMEN_CHECK(std::isfinite(options.eps) && options.eps >= 0, "LARS: eps must be >= 0, got ",
              options.eps);
}

kernels::OptimizerHyper LARS::hyper() const {
  kernels::OptimizerHyper h;
  h.kind = kernels::OptimizerKind::lars;
  h.momentum = options_.momentum;
  h.dampening = options_.dampening;
  h.nesterov = options_.nesterov;
  h.trust_coefficient = options_.trust_coefficient;
  h.eps = options_.eps;
  return h;
}

}  // namespace lumen
