#include "layers/methods/byol.h"

#include "engine/autograd/tape.h"
#include "engine/ops/elementwise.h"

namespace lumen {

BYOL::BYOL(const Backbone& backbone, const BYOLOptions& o) : Method(backbone), options_(o) {
  const int64_t d = feature_dim();
  head_ = add_child("projection_head", byol_projection_head(d, o.hidden_dim, o.out_dim));
  predictor_ = add_child("prediction_head",
                         byol_prediction_head(o.out_dim, o.prediction_hidden_dim, o.out_dim));
  target_backbone_ = target_.add("backbone_momentum", backbone.make(), this->backbone());
  target_head_ = target_.add("projection_head_momentum",
                             byol_projection_head(d, o.hidden_dim, o.out_dim), *head_);
}

void BYOL::setup(ParameterBuffer& params, Device device, uint64_t seed) { target_.finalize(); }

Tensor BYOL::online(const Tensor& x) { return (*predictor_)((*head_)(forward(x))); }

Tensor BYOL::target(const Tensor& x) {
  NoGrad no_grad;
  return (*target_head_)((*target_backbone_)(x));
}

Tensor BYOL::training_loss(const std::vector<Tensor>& views) {
  LUMEN_CHECK(views.size() == 2, "BYOL trains on 2 views, got ", views.size());
  // lightly's order: online and target forwards of view 0, then of view 1.
  Tensor p0 = online(views[0]);
  Tensor z0 = target(views[0]);
  Tensor p1 = online(views[1]);
  Tensor z1 = target(views[1]);
  return scale(add(criterion_(p0, z1), criterion_(p1, z0)), 0.5);
}

std::string BYOL::graph_blocker() const {
  return options_.momentum.cosine
             ? "method.momentum_schedule=cosine changes the momentum every step, and the update "
               "takes it from the host"
             : "";
}

}  // namespace lumen
