#include "layers/backbone.h"

#include "layers/resnet.h"

namespace lumen {

Backbone resnet_backbone(const std::string& name, double width) {
  Backbone b;
  b.name = name;
  b.feature_dim = make_resnet(name, width)->feature_dim();
  b.make = [name, width]() -> std::unique_ptr<Module> { return make_resnet(name, width); };
  return b;
}

}  // namespace lumen
