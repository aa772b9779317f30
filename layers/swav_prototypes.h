// lightly's SwaVPrototypes: one nn.Linear(input_dim, n) with bias per prototype head, in a
// ModuleList named "heads" (parameters "heads.0.weight", "heads.0.bias", ...), initialised as
// nn.Linear.
//   normalize(): every head's weight rows to unit length (lightly's normalize(), called before each
//   training step: weight / ||row||, no eps, in place, no gradient).
//   n_steps_frozen_prototypes: lightly's forward(x, step) sets the prototypes' requires_grad to
//   step >= n_steps_frozen_prototypes, so during the first steps they get no gradient and the
//   optimizer leaves them alone (PyTorch optimizers skip parameters whose grad is None, weight
//   decay and moments included); frozen(step) says when. (lightly's SwaVQueue benchmark passes the
//   epoch as the step: SwaVPrototypes(128, 3000, 1) is frozen for epoch 0; its SwaV benchmark
//   freezes nothing.) The gradient still flows through the prototypes to the features.
#pragma once

#include <memory>
#include <vector>

#include "layers/layers.h"

namespace lumen {

class SwaVPrototypes : public Module {
 public:
  // n_prototypes: one count per head (lightly's int is one head).
  explicit SwaVPrototypes(int64_t input_dim = 128, std::vector<int64_t> n_prototypes = {3000},
                          int64_t n_steps_frozen_prototypes = 0);

  // x: (N, input_dim) -> (N, n_prototypes[0]); a single head only (forward_heads for several).
  Tensor forward(const Tensor& x) override;
  // One (N, n_prototypes[i]) per head.
  std::vector<Tensor> forward_heads(const Tensor& x);

  void normalize();
  // Whether lightly's prototypes receive no gradient at this step (see above).
  bool frozen(int64_t step) const {
    return n_steps_frozen_prototypes > 0 && step < n_steps_frozen_prototypes;
  }

  int64_t input_dim;
  std::vector<int64_t> n_prototypes;
  int64_t n_steps_frozen_prototypes;

 private:
  ModuleList* heads_;
};

}  // namespace lumen
