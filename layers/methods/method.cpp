#include "layers/methods/method.h"

namespace lumen {

Method::Method(const Backbone& backbone) : feature_dim_(backbone.feature_dim) {
  LUMEN_CHECK(backbone.make, "a method needs a backbone factory (Backbone::make)");
  LUMEN_CHECK(backbone.feature_dim > 0, "backbone '", backbone.name,
              "' must state its feature dimension (Backbone::feature_dim), got ",
              backbone.feature_dim);
  backbone_ = add_child("backbone", backbone.make());
}

NamedTensors Method::state() {
  NamedTensors out = named_parameters();
  for (auto& b : named_buffers()) out.push_back(b);
  for (Module* net : frozen_networks()) {
    for (auto& p : net->named_parameters()) out.push_back(p);
    for (auto& b : net->named_buffers()) out.push_back(b);
  }
  for (auto& e : extra_state()) out.push_back(e);
  return out;
}

std::vector<Tensor> Method::host_counters() {
  std::vector<Tensor> counters;
  auto collect = [&](Module& net) {
    for (auto& [name, t] : net.named_buffers()) {
      if (t.dtype() == DType::i64) counters.push_back(t);
    }
  };
  collect(*this);
  for (Module* net : frozen_networks()) collect(*net);
  return counters;
}

}  // namespace lumen
