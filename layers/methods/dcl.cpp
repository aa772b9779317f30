#include "layers/methods/dcl.h"

namespace lumen {

DCL::DCL(const Backbone& backbone, const DCLMethodOptions& o, std::shared_ptr<Communicator> comm)
    : Method(backbone) {
  const int64_t d = feature_dim();
  head_ = add_child("projection_head",
                    simclr_projection_head(d, o.hidden_dim > 0 ? o.hidden_dim : d, o.out_dim));
  if (o.sigma > 0) {
    criterion_ = std::make_unique<DCLWLoss>(
        DCLWOptions{o.temperature, o.sigma, o.gather_distributed}, std::move(comm));
  } else {
    criterion_ =
        std::make_unique<DCLLoss>(DCLOptions{o.temperature, o.gather_distributed}, std::move(comm));
  }
}

Tensor DCL::training_loss(const std::vector<Tensor>& views) {
  LUMEN_CHECK(views.size() == 2, "DCL trains on 2 views, got ", views.size());
  // One statement each: the order of the forwards is the order of batch norm's running updates.
  Tensor z0 = (*head_)(forward(views[0]));
  Tensor z1 = (*head_)(forward(views[1]));
  return (*criterion_)(z0, z1);
}

}  // namespace lumen
