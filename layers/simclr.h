// SimCLR's network: a backbone (a ResNet's pooled features) followed by lightly's
// SimCLRProjectionHead. Parameter names: "backbone.<torchvision name>" and
// "projection_head.layers.N.<name>".
#pragma once

#include <memory>

#include "layers/heads.h"
#include "layers/resnet.h"

namespace lumen {

class SimCLR : public Module {
 public:
  // backbone_name / width: see make_resnet; out_dim: the projection's size (lightly: 128).
  SimCLR(const std::string& backbone_name, double width, int64_t out_dim);
  Tensor forward(const Tensor& x) override;  // (N, H, W, 3) -> projections (N, out_dim)
  Tensor features(const Tensor& x);          // (N, H, W, 3) -> backbone features (N, D)
  ResNet& backbone() { return *backbone_; }
  ProjectionHead& projection_head() { return *head_; }

 private:
  ResNet* backbone_;
  ProjectionHead* head_;
};

}  // namespace lumen
