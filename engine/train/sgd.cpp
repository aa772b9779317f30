#include "engine/train/sgd.h"

#include <cmath>

namespace lumen {

namespace {
std::vector<std::string> momentum_state(double momentum) {
  if (momentum == 0) return {};
  return {"momentum_buffer"};
}
}  // namespace

SGD::SGD(ParameterBuffer& params, const SGDOptions& options, const WeightDecayRule& decays)
    : Optimizer(params, "SGD", options.lr, options.weight_decay, decays,
                momentum_state(options.momentum)),
      options_(options) {
  LUMEN_CHECK(std::isfinite(options.momentum) && options.momentum >= 0,
              "SGD: momentum must be >= 0, got ", options.momentum);
  LUMEN_CHECK(!options.nesterov || (options.momentum > 0 && options.dampening == 0),
              "SGD: Nesterov momentum requires momentum > 0 and dampening 0 (got momentum ",
              options.momentum, ", dampening ", options.dampening, ")");
}

kernels::OptimizerHyper SGD::hyper() const {
  kernels::OptimizerHyper h;
  h.kind = kernels::OptimizerKind::sgd;
  h.momentum = options_.momentum;
  h.dampening = options_.dampening;
  h.nesterov = options_.nesterov;
  return h;
}

}  // namespace lumen
