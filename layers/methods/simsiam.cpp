#include "layers/methods/simsiam.h"

#include "engine/ops/elementwise.h"

namespace lumen {

SimSiam::SimSiam(const Backbone& backbone, const SimSiamOptions& o) : Method(backbone) {
  head_ =
      add_child("projection_head", simclr_projection_head(feature_dim(), o.hidden_dim, o.out_dim));
  predictor_ = add_child("prediction_head",
                         simsiam_prediction_head(o.out_dim, o.prediction_hidden_dim, o.out_dim));
}

Tensor SimSiam::training_loss(const std::vector<Tensor>& views) {
  LUMEN_CHECK(views.size() == 2, "SimSiam trains on 2 views, got ", views.size());
  Tensor z0 = (*head_)(forward(views[0]));
  Tensor p0 = (*predictor_)(z0);
  Tensor z1 = (*head_)(forward(views[1]));
  Tensor p1 = (*predictor_)(z1);
  return scale(add(criterion_(z0.detach(), p1), criterion_(z1.detach(), p0)), 0.5);
}

}  // namespace lumen
