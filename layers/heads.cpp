#include "layers/heads.h"

namespace lumen {

ProjectionHead::ProjectionHead(const std::vector<ProjectionBlock>& blocks) {
  LUMEN_CHECK(!blocks.empty(), "a projection head needs at least one block");
  layers_ = add_child("layers", std::make_unique<Sequential>());
  for (const ProjectionBlock& b : blocks) {
    layers_->append(
        std::make_unique<Linear>(b.in_features, b.out_features, b.bias.value_or(!b.batch_norm)));
    if (b.batch_norm) {
      layers_->append(std::make_unique<BatchNorm1d>(b.out_features, b.batch_norm_affine));
    }
    if (b.relu) layers_->append(std::make_unique<ReLU>());
  }
}

Tensor ProjectionHead::forward(const Tensor& x) { return (*layers_)(x); }

namespace {

// lightly's SimCLR / MoCo layout: a ReLU block, (num_layers - 2) hidden ReLU blocks, a last block
// without ReLU; batch norm in all of them or none.
std::vector<ProjectionBlock> mlp_blocks(const char* head, int64_t input_dim, int64_t hidden_dim,
                                        int64_t output_dim, int num_layers, bool batch_norm) {
  LUMEN_CHECK(num_layers >= 2, head, " has at least 2 layers, got ", num_layers);
  std::vector<ProjectionBlock> blocks{{input_dim, hidden_dim, batch_norm, true}};
  for (int i = 2; i < num_layers; ++i) blocks.push_back({hidden_dim, hidden_dim, batch_norm, true});
  blocks.push_back({hidden_dim, output_dim, batch_norm, false});
  return blocks;
}

// Linear -> BN -> ReLU, then a plain Linear (with bias): BYOL's, SimSiam's and NNCLR's predictors.
std::unique_ptr<ProjectionHead> two_layer_head(int64_t input_dim, int64_t hidden_dim,
                                               int64_t output_dim) {
  return std::make_unique<ProjectionHead>(std::vector<ProjectionBlock>{
      {input_dim, hidden_dim, true, true}, {hidden_dim, output_dim, false, false}});
}

}  // namespace

std::unique_ptr<ProjectionHead> simclr_projection_head(int64_t input_dim, int64_t hidden_dim,
                                                       int64_t output_dim, int num_layers,
                                                       bool batch_norm) {
  return std::make_unique<ProjectionHead>(mlp_blocks(
      "SimCLR's projection head", input_dim, hidden_dim, output_dim, num_layers, batch_norm));
}

std::unique_ptr<ProjectionHead> moco_projection_head(int64_t input_dim, int64_t hidden_dim,
                                                     int64_t output_dim, int num_layers,
                                                     bool batch_norm) {
  return std::make_unique<ProjectionHead>(mlp_blocks(
      "MoCo's projection head", input_dim, hidden_dim, output_dim, num_layers, batch_norm));
}

std::unique_ptr<ProjectionHead> byol_projection_head(int64_t input_dim, int64_t hidden_dim,
                                                     int64_t output_dim) {
  return two_layer_head(input_dim, hidden_dim, output_dim);
}

std::unique_ptr<ProjectionHead> byol_prediction_head(int64_t input_dim, int64_t hidden_dim,
                                                     int64_t output_dim) {
  return two_layer_head(input_dim, hidden_dim, output_dim);
}

std::unique_ptr<ProjectionHead> simsiam_projection_head(int64_t input_dim, int64_t hidden_dim,
                                                        int64_t output_dim) {
  return std::make_unique<ProjectionHead>(std::vector<ProjectionBlock>{
      {input_dim, hidden_dim, true, true},
      {hidden_dim, hidden_dim, true, true},
      {hidden_dim, output_dim, true, false, /*batch_norm_affine=*/false}});
}

std::unique_ptr<ProjectionHead> simsiam_prediction_head(int64_t input_dim, int64_t hidden_dim,
                                                        int64_t output_dim) {
  return two_layer_head(input_dim, hidden_dim, output_dim);
}

std::unique_ptr<ProjectionHead> nnclr_projection_head(int64_t input_dim, int64_t hidden_dim,
                                                      int64_t output_dim) {
  return std::make_unique<ProjectionHead>(
      std::vector<ProjectionBlock>{{input_dim, hidden_dim, true, true},
                                   {hidden_dim, hidden_dim, true, true},
                                   {hidden_dim, output_dim, true, false}});
}

std::unique_ptr<ProjectionHead> nnclr_prediction_head(int64_t input_dim, int64_t hidden_dim,
                                                      int64_t output_dim) {
  return two_layer_head(input_dim, hidden_dim, output_dim);
}

std::unique_ptr<ProjectionHead> barlow_twins_projection_head(int64_t input_dim, int64_t hidden_dim,
                                                             int64_t output_dim) {
  return std::make_unique<ProjectionHead>(
      std::vector<ProjectionBlock>{{input_dim, hidden_dim, true, true},
                                   {hidden_dim, hidden_dim, true, true},
                                   {hidden_dim, output_dim, false, false}});
}

std::unique_ptr<ProjectionHead> vicreg_projection_head(int64_t input_dim, int64_t hidden_dim,
                                                       int64_t output_dim, int num_layers) {
  LUMEN_CHECK(num_layers >= 2, "VICReg's projection head has at least 2 layers, got ", num_layers);
  std::vector<ProjectionBlock> blocks{{input_dim, hidden_dim, true, true}};
  for (int i = 2; i < num_layers; ++i) blocks.push_back({hidden_dim, hidden_dim, true, true});
  blocks.push_back({hidden_dim, output_dim, false, false});
  return std::make_unique<ProjectionHead>(blocks);
}

std::unique_ptr<ProjectionHead> swav_projection_head(int64_t input_dim, int64_t hidden_dim,
                                                     int64_t output_dim) {
  return two_layer_head(input_dim, hidden_dim, output_dim);
}

}  // namespace lumen
