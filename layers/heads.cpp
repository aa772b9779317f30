#include "layers/heads.h"

namespace lumen {

ProjectionHead::ProjectionHead(const std::vector<ProjectionBlock>& blocks) {
  LUMEN_CHECK(!blocks.empty(), "a projection head needs at least one block");
  layers_ = add_child("layers", std::make_unique<Sequential>());
  for (const ProjectionBlock& b : blocks) {
    layers_->append(std::make_unique<Linear>(b.in_features, b.out_features, !b.batch_norm));
    if (b.batch_norm) layers_->append(std::make_unique<BatchNorm1d>(b.out_features));
    if (b.relu) layers_->append(std::make_unique<ReLU>());
  }
}

Tensor ProjectionHead::forward(const Tensor& x) { return (*layers_)(x); }

std::unique_ptr<ProjectionHead> simclr_projection_head(int64_t input_dim, int64_t hidden_dim,
                                                       int64_t output_dim, int num_layers,
                                                       bool batch_norm) {
  LUMEN_CHECK(num_layers >= 2, "SimCLR's projection head has at least 2 layers, got ", num_layers);
  std::vector<ProjectionBlock> blocks{{input_dim, hidden_dim, batch_norm, true}};
  for (int i = 2; i < num_layers; ++i) blocks.push_back({hidden_dim, hidden_dim, batch_norm, true});
  blocks.push_back({hidden_dim, output_dim, batch_norm, false});
  return std::make_unique<ProjectionHead>(blocks);
}

}  // namespace lumen
