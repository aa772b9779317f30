// lightly's DINOProjectionHead: an MLP "layers" of GELU blocks (Linear -> [BatchNorm1d] -> GELU,
// then a bottleneck Linear), L2 normalisation, and a weight-normalised last Linear without bias
// ("last_layer": weight_g (out, 1), weight_v (out, bottleneck)), with lightly's names:
//   layers.0.weight [, layers.1.* BN], ..., last_layer.weight_g, last_layer.weight_v
// A Linear has a bias exactly when no batch norm follows it (lightly's ProjectionHead rule).
//   num_layers: 3 (lightly's head: input -> hidden -> hidden -> bottleneck) or 2 (input -> hidden
//     -> bottleneck: the MLP lightly's CIFAR-10 benchmark puts in its place, with batch norm)
//   mlp_init: lightly's _init_weights (weights N(0, 0.02^2) truncated at +-2, i.e. at 100 standard
//     deviations, which never binds; biases 0), or PyTorch's nn.Linear default (the benchmark's
//     replacement layers keep it); the last layer is always nn.Linear's default, weight_g 1
//   norm_last_layer (default): weight_g stays 1 and is not trained (lightly: requires_grad False;
//     here a buffer of that name), so the last layer's rows are unit vectors
//   freeze_last_layer: cancel_last_layer_gradients(epoch) clears the last layer's gradients for
//     epochs below it (lightly sets them to None, so PyTorch's optimizer also skips them: no
//     weight decay, no moment update; last_layer_frozen(epoch) says when, for the optimizer)
// Defaults (lightly's): 2048, 2048, 256, 65536, no batch norm, freeze_last_layer -1.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "layers/layers.h"

namespace lumen {

struct DINOProjectionHeadOptions {
  int64_t input_dim = 2048;
  int64_t hidden_dim = 2048;
  int64_t bottleneck_dim = 256;
  int64_t output_dim = 65536;
  bool batch_norm = false;
  int64_t freeze_last_layer = -1;
  bool norm_last_layer = true;
  int num_layers = 3;
  enum class MlpInit { lightly, torch_default } mlp_init = MlpInit::lightly;
};

class DINOProjectionHead : public Module {
 public:
  explicit DINOProjectionHead(const DINOProjectionHeadOptions& options = {});
  // (N, input_dim) -> (N, output_dim)
  Tensor forward(const Tensor& x) override;

  bool last_layer_frozen(int64_t current_epoch) const {
    return current_epoch < options_.freeze_last_layer;
  }
  // Zeroes the last layer's gradients when last_layer_frozen(current_epoch).
  void cancel_last_layer_gradients(int64_t current_epoch);
  // The dotted names of the last layer's trained parameters ("last_layer.weight_v", and
  // "last_layer.weight_g" without norm_last_layer), for an optimizer that must skip them.
  std::vector<std::string> last_layer_parameter_names() const;
  const DINOProjectionHeadOptions& options() const { return options_; }

 private:
  DINOProjectionHeadOptions options_;
  Sequential* layers_;
  WeightNormLinear* last_layer_;
};

// lightly's CIFAR-10 benchmark wiring: DINOProjectionHead(input, hidden, bottleneck, output,
// batch_norm=True) with its MLP replaced by the two layers (Linear -> BatchNorm1d -> GELU,
// Linear) of PyTorch's default initialisation.
DINOProjectionHeadOptions dino_cifar10_head_options(int64_t input_dim = 512,
                                                    int64_t hidden_dim = 2048,
                                                    int64_t bottleneck_dim = 256,
                                                    int64_t output_dim = 2048);

}  // namespace lumen
