#include "layers/methods/paired.h"

namespace lumen {

PairedViewsMethod::PairedViewsMethod(const char* name, const Backbone& backbone,
                                     std::unique_ptr<ProjectionHead> head)
    : Method(backbone), name_(name) {
  head_ = add_child("projection_head", std::move(head));
}

Tensor PairedViewsMethod::training_loss(const std::vector<Tensor>& views) {
  LUMEN_CHECK(views.size() == 2, name_, " trains on 2 views, got ", views.size());
  // One statement each: the order of the forwards is the order of batch norm's running updates.
  Tensor z0 = project(views[0]);
  Tensor z1 = project(views[1]);
  return pair_loss(z0, z1);
}

}  // namespace lumen
