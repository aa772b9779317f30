// A backbone is any module that maps images (N, H, W, 3) NHWC to features (N, feature_dim): the
// built-in ResNets, or a network of the caller's own (lightly: "you can plug in whatever backbone
// you want"). Methods get a Backbone, not a module, because a momentum method builds a second,
// identical copy for its target network.
//
//   Backbone tiny{"tiny-cnn", 32, [] { return std::make_unique<TinyCnn>(); }};
//   train_embedding_model(config, tiny);
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "layers/module.h"

namespace lumen {

struct Backbone {
  std::string name;         // recorded in checkpoints (model.name)
  int64_t feature_dim = 0;  // D of the (N, D) features
  // A fresh module, not finalized; every call must build the same architecture.
  std::function<std::unique_ptr<Module>()> make;
};

// The built-in ResNets by name and width (see make_resnet).
Backbone resnet_backbone(const std::string& name, double width);

}  // namespace lumen
