#include "layers/simclr.h"

namespace lumen {

SimCLR::SimCLR(const std::string& backbone_name, double width, int64_t out_dim) {
  backbone_ = add_child("backbone", make_resnet(backbone_name, width));
  const int64_t d = backbone_->feature_dim();
  head_ = add_child("projection_head", simclr_projection_head(d, d, out_dim));
}

Tensor SimCLR::features(const Tensor& x) { return (*backbone_)(x); }

Tensor SimCLR::forward(const Tensor& x) { return (*head_)(features(x)); }

}  // namespace lumen
