#include "layers/methods/nnclr.h"

#include "engine/ops/elementwise.h"

namespace lumen {

NNCLR::NNCLR(const Backbone& backbone, const NNCLROptions& o, std::shared_ptr<Communicator> comm)
    : Method(backbone),
      options_(o),
      support_(o.memory_bank_size, o.seed),
      criterion_(NTXentOptions{o.temperature, 0, o.gather_distributed}, std::move(comm)) {
  LUMEN_CHECK(o.memory_bank_size > 0,
              "NNCLR needs a support set: criterion.memory_bank_size must be positive");
  head_ =
      add_child("projection_head", simclr_projection_head(feature_dim(), o.hidden_dim, o.out_dim));
  predictor_ = add_child("prediction_head",
                         nnclr_prediction_head(o.out_dim, o.prediction_hidden_dim, o.out_dim));
}

void NNCLR::setup(ParameterBuffer& params, Device device, uint64_t seed) {
  support_.memory_bank().ensure(options_.out_dim, device, params.values().dtype());
}

Tensor NNCLR::training_loss(const std::vector<Tensor>& views) {
  LUMEN_CHECK(views.size() == 2, "NNCLR trains on 2 views, got ", views.size());
  Tensor z0 = (*head_)(forward(views[0]));
  Tensor p0 = (*predictor_)(z0);
  Tensor z1 = (*head_)(forward(views[1]));
  Tensor p1 = (*predictor_)(z1);
  Tensor n0 = support_(z0.detach(), false);
  Tensor n1 = support_(z1.detach(), true);
  return scale(add(criterion_(n0, p1), criterion_(n1, p0)), 0.5);
}

NamedTensors NNCLR::extra_state() {
  NamedTensors out;
  for (auto& [name, t] : support_.state_tensors()) out.emplace_back("memory_bank." + name, t);
  return out;
}

}  // namespace lumen
