#include "layers/dino_head.h"

#include "engine/ops/normalize.h"

namespace lumen {

namespace {
constexpr double kLightlyInitStd = 0.02;  // lightly's _init_weights: trunc_normal(std=0.02)
}  // namespace

DINOProjectionHead::DINOProjectionHead(const DINOProjectionHeadOptions& options)
    : options_(options) {
  const DINOProjectionHeadOptions& o = options_;
  LUMEN_CHECK(o.num_layers == 2 || o.num_layers == 3,
              "DINOProjectionHead: num_layers must be 3 (lightly's head) or 2 (its CIFAR-10 ",
              "benchmark's), got ", o.num_layers);
  layers_ = add_child("layers", std::make_unique<Sequential>());
  auto add_linear = [&](int64_t in, int64_t out, bool bias) {
    Linear* linear = layers_->append(std::make_unique<Linear>(in, out, bias));
    if (o.mlp_init == DINOProjectionHeadOptions::MlpInit::lightly) {
      linear->parameters()[0].init = normal_init(kLightlyInitStd);
      if (bias) linear->parameters()[1].init = constant_init(0);
    }
  };
  for (int block = 0; block + 1 < o.num_layers; ++block) {
    add_linear(block == 0 ? o.input_dim : o.hidden_dim, o.hidden_dim, !o.batch_norm);
    if (o.batch_norm) layers_->append(std::make_unique<BatchNorm1d>(o.hidden_dim));
    layers_->append(std::make_unique<GELU>());
  }
  add_linear(o.hidden_dim, o.bottleneck_dim, true);
  last_layer_ = add_child("last_layer", std::make_unique<WeightNormLinear>(
                                            o.bottleneck_dim, o.output_dim, !o.norm_last_layer));
}

Tensor DINOProjectionHead::forward(const Tensor& x) {
  return (*last_layer_)(l2_normalize_rows((*layers_)(x)));
}

void DINOProjectionHead::cancel_last_layer_gradients(int64_t current_epoch) {
  if (!last_layer_frozen(current_epoch)) return;
  for (Parameter& p : last_layer_->parameters()) {
    Tensor grad = p.value.grad();
    if (grad.defined()) grad.zero();
  }
}

std::vector<std::string> DINOProjectionHead::last_layer_parameter_names() const {
  std::vector<std::string> out;
  for (const Parameter& p : last_layer_->parameters()) out.push_back("last_layer." + p.name);
  return out;
}

DINOProjectionHeadOptions dino_cifar10_head_options(int64_t input_dim, int64_t hidden_dim,
                                                    int64_t bottleneck_dim, int64_t output_dim) {
  DINOProjectionHeadOptions o;
  o.input_dim = input_dim;
  o.hidden_dim = hidden_dim;
  o.bottleneck_dim = bottleneck_dim;
  o.output_dim = output_dim;
  o.batch_norm = true;
  o.num_layers = 2;
  o.mlp_init = DINOProjectionHeadOptions::MlpInit::torch_default;
  return o;
}

}  // namespace lumen
