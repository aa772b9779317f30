#include "layers/methods/dcl.h"

namespace lumen {

DCL::DCL(const Backbone& backbone, const DCLMethodOptions& o, std::shared_ptr<Communicator> comm)
    : PairedViewsMethod(o.sigma > 0 ? "DCLW" : "DCL", backbone,
                        simclr_projection_head(
                            backbone.feature_dim,
                            o.hidden_dim > 0 ? o.hidden_dim : backbone.feature_dim, o.out_dim)) {
  if (o.sigma > 0) {
    criterion_ = std::make_unique<DCLWLoss>(
        DCLWOptions{o.temperature, o.sigma, o.gather_distributed}, std::move(comm));
  } else {
    criterion_ =
        std::make_unique<DCLLoss>(DCLOptions{o.temperature, o.gather_distributed}, std::move(comm));
  }
}

}  // namespace lumen
