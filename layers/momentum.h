// A momentum (EMA) copy of online modules: what lightly's MoCo and BYOL keep as
// momentum_backbone / momentum_projection_head (copy.deepcopy of the online modules, requires_grad
// off, update_momentum(online, copy, m) each step).
//
//   MomentumCopy momentum;
//   ResNet* key_backbone = momentum.add("backbone", make_resnet(name, width), backbone);
//   ProjectionHead* key_head = momentum.add("projection_head", moco_projection_head(d), head);
//   momentum.finalize();    // own flat value buffer, no gradients; values and buffers copied
//   ...                     // each step, before the key forward:
//   momentum.update(m);     // one fused kernel over the whole copy
//   { NoGrad g; keys = (*key_head)((*key_backbone)(x1)); }
//
// Each copy must be built exactly like its online module (the same constructor and arguments),
// and the online modules must be finalized, with their parameters consecutive in one
// ParameterBuffer in the order they are added here (declare them first and together in the online
// model, e.g. backbone then projection head, with a prediction head after them): then the online
// parameters are one flat range laid out like the copy's buffer, and the update is one pass.
// finalize() checks this and says what to change otherwise.
//
// Buffers (batch norm's running statistics and num_batches_tracked) are copied once, as deepcopy
// does, and then evolve with the copy's own forwards, as in lightly; the update touches
// parameters only. Each copy starts in its online module's mode (train or eval), as deepcopy's;
// lightly trains the copies in training mode with the rest of the model.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "layers/module.h"

namespace lumen {

class MomentumCopy {
 public:
  MomentumCopy();
  ~MomentumCopy();
  MomentumCopy(const MomentumCopy&) = delete;
  MomentumCopy& operator=(const MomentumCopy&) = delete;

  // Adds `copy` (not finalized) under `name` as the momentum copy of `online`; returns it typed.
  template <typename M>
  M* add(const std::string& name, std::unique_ptr<M> copy, Module& online) {
    M* raw = copy.get();
    add_module(name, std::move(copy), online);
    return raw;
  }

  // Allocates the copy's parameters (no gradients) on the online modules' device and dtype and
  // copies the online values and buffers into them.
  void finalize();
  // target = target * m + online * (1 - m) over every parameter (engine/train/momentum.h).
  void update(double m);
  // Copies the online values and buffers again (e.g. after loading online weights).
  void copy_from_online();

  // The copies, as children named as added ("backbone", "projection_head"): named_parameters() and
  // named_buffers() give their checkpoint entries.
  Module& root();
  ParameterBuffer& parameters() { return params_; }
  // The online parameters the copy follows: a (n,) view of the online ParameterBuffer's values,
  // laid out like parameters().values().
  const Tensor& online_values() const { return online_values_; }

 private:
  class Root;
  void add_module(const std::string& name, std::unique_ptr<Module> copy, Module& online);
  void require_finalized(const char* what) const;

  std::unique_ptr<Root> root_;
  std::vector<Module*> online_;
  ParameterBuffer params_;
  Tensor online_values_;
};

}  // namespace lumen
