// The shape SimCLR, DCL, DCLW, Barlow Twins and VICReg share: both views through the same backbone
// and projection head (one forward each, view 0 first: the order of batch norm's running updates),
// then one loss of the two projections. A method of this shape gives its head and its loss.
// Entries: backbone.*, projection_head.*.
#pragma once

#include <memory>

#include "layers/heads.h"
#include "layers/methods/method.h"

namespace lumen {

class PairedViewsMethod : public Method {
 public:
  Tensor training_loss(const std::vector<Tensor>& views) override;
  // (N, H, W, 3) -> projections (N, out)
  Tensor project(const Tensor& x) { return (*head_)(forward(x)); }
  ProjectionHead& projection_head() { return *head_; }

 protected:
  PairedViewsMethod(const char* name, const Backbone& backbone,
                    std::unique_ptr<ProjectionHead> head);
  // The loss of the projections z0, z1 (N, out) of the two views.
  virtual Tensor pair_loss(const Tensor& z0, const Tensor& z1) = 0;

 private:
  const char* name_;
  ProjectionHead* head_;
};

}  // namespace lumen
