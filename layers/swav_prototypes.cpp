#include "layers/swav_prototypes.h"

#include "engine/autograd/tape.h"
#include "engine/ops/normalize.h"

namespace lumen {

SwaVPrototypes::SwaVPrototypes(int64_t input_dim, std::vector<int64_t> n_prototypes,
                               int64_t n_steps_frozen_prototypes)
    : input_dim(input_dim),
      n_prototypes(std::move(n_prototypes)),
      n_steps_frozen_prototypes(n_steps_frozen_prototypes) {
  LUMEN_CHECK(!this->n_prototypes.empty(), "SwaVPrototypes needs at least one prototype head");
  heads_ = add_child("heads", std::make_unique<ModuleList>());
  for (int64_t n : this->n_prototypes) heads_->append(std::make_unique<Linear>(input_dim, n));
}

Tensor SwaVPrototypes::forward(const Tensor& x) {
  LUMEN_CHECK(heads_->size() == 1, "SwaVPrototypes has ", heads_->size(),
              " prototype heads: use forward_heads(x) for one output per head");
  return (*heads_)[0](x);
}

std::vector<Tensor> SwaVPrototypes::forward_heads(const Tensor& x) {
  std::vector<Tensor> out;
  for (size_t i = 0; i < heads_->size(); ++i) out.push_back((*heads_)[i](x));
  return out;
}

void SwaVPrototypes::normalize() {
  NoGrad no_grad;
  for (size_t i = 0; i < heads_->size(); ++i) {
    Tensor& w = (*heads_)[i].parameters().at(0).value;  // (n, input_dim) "weight"
    LUMEN_CHECK(w.defined(), "SwaVPrototypes::normalize: finalize the module first");
    const Tensor ones = Tensor::full({w.size(0), 1}, 1.0, w.dtype(), w.device());
    w.copy_from(weight_norm(w, ones));  // w / ||row||, no eps (as lightly's normalize_weight)
  }
}

}  // namespace lumen
