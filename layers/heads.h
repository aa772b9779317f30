// Projection and prediction heads with lightly's structure, defaults and parameter names
// (lightly.models.modules.heads).
//
// lightly's ProjectionHead is a list of blocks (in, out, batch norm?, activation?, bias?): each
// block is Linear(in, out, bias) -> BatchNorm1d(out) -> ReLU, the last two optional, all in one
// nn.Sequential named "layers", so parameters are "layers.0.weight", "layers.1.weight" (BN), ...
// and the Linear has a bias exactly when the block has no batch norm, unless the block says.
//
//   head                      blocks (Linear -> BN -> ReLU; "-" = left out)      lightly defaults
//   simclr_projection_head    [BN ReLU] x (num_layers - 1), [BN -] (bn optional)    2048 2048 128
//   moco_projection_head      the same with batch_norm = false (MoCo v2)             2048 2048 128
//   byol_projection_head      [BN ReLU], [- -]                                       2048 4096 256
//   byol_prediction_head      [BN ReLU], [- -]                                        256 4096 256
//   simsiam_projection_head   [BN ReLU], [BN ReLU], [BN(affine = false) -]           2048 2048 2048
//   simsiam_prediction_head   [BN ReLU], [- -]                                       2048  512 2048
//   nnclr_projection_head     [BN ReLU], [BN ReLU], [BN -]                           2048 2048 256
//   nnclr_prediction_head     [BN ReLU], [- -]                                        256 4096 256
//   barlow_twins_projection_head [BN ReLU], [BN ReLU], [- -]                        2048 8192 8192
//   vicreg_projection_head    [BN ReLU] x (num_layers - 1), [- -] (3 layers)         2048 8192 8192
//   swav_projection_head      [BN ReLU], [- -]                                       2048 2048 128
// (dims: input, hidden, output). Every head maps (N, input_dim) -> (N, output_dim). SwaV's
// prototypes and DINO's head are in layers/swav_prototypes.h and layers/dino_head.h.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "layers/layers.h"

namespace lumen {

struct ProjectionBlock {
  ProjectionBlock(int64_t in_features, int64_t out_features, bool batch_norm, bool relu,
                  bool batch_norm_affine = true, std::optional<bool> bias = std::nullopt)
      : in_features(in_features),
        out_features(out_features),
        batch_norm(batch_norm),
        relu(relu),
        batch_norm_affine(batch_norm_affine),
        bias(bias) {}
  int64_t in_features;
  int64_t out_features;
  bool batch_norm;
  bool relu;
  bool batch_norm_affine;    // BatchNorm1d(out_features, affine=...)
  std::optional<bool> bias;  // the Linear's bias; unset: !batch_norm (lightly's default)
};

class ProjectionHead : public Module {
 public:
  explicit ProjectionHead(const std::vector<ProjectionBlock>& blocks);
  Tensor forward(const Tensor& x) override;  // (N, in) -> (N, out)

 private:
  Sequential* layers_;
};

// lightly's SimCLRProjectionHead: Linear -> BN -> ReLU, (num_layers - 2) more of those, then
// Linear -> BN. SimCLR uses hidden_dim = input_dim and output_dim = 128.
std::unique_ptr<ProjectionHead> simclr_projection_head(int64_t input_dim, int64_t hidden_dim,
                                                       int64_t output_dim = 128, int num_layers = 2,
                                                       bool batch_norm = true);

// lightly's MoCoProjectionHead: SimCLR's layout without batch norm by default (MoCo v2: a 2-layer
// MLP with a ReLU between; num_layers = 3 and batch_norm = true give MoCo v3's projector).
std::unique_ptr<ProjectionHead> moco_projection_head(int64_t input_dim = 2048,
                                                     int64_t hidden_dim = 2048,
                                                     int64_t output_dim = 128, int num_layers = 2,
                                                     bool batch_norm = false);

std::unique_ptr<ProjectionHead> byol_projection_head(int64_t input_dim = 2048,
                                                     int64_t hidden_dim = 4096,
                                                     int64_t output_dim = 256);
std::unique_ptr<ProjectionHead> byol_prediction_head(int64_t input_dim = 256,
                                                     int64_t hidden_dim = 4096,
                                                     int64_t output_dim = 256);

// The last batch norm has no affine parameters (lightly: BatchNorm1d(output_dim, affine=False)).
std::unique_ptr<ProjectionHead> simsiam_projection_head(int64_t input_dim = 2048,
                                                        int64_t hidden_dim = 2048,
                                                        int64_t output_dim = 2048);
std::unique_ptr<ProjectionHead> simsiam_prediction_head(int64_t input_dim = 2048,
                                                        int64_t hidden_dim = 512,
                                                        int64_t output_dim = 2048);

std::unique_ptr<ProjectionHead> nnclr_projection_head(int64_t input_dim = 2048,
                                                      int64_t hidden_dim = 2048,
                                                      int64_t output_dim = 256);
std::unique_ptr<ProjectionHead> nnclr_prediction_head(int64_t input_dim = 256,
                                                      int64_t hidden_dim = 4096,
                                                      int64_t output_dim = 256);

// lightly's BarlowTwinsProjectionHead (also its VICReg benchmark's projector).
std::unique_ptr<ProjectionHead> barlow_twins_projection_head(int64_t input_dim = 2048,
                                                             int64_t hidden_dim = 8192,
                                                             int64_t output_dim = 8192);

// lightly's VICRegProjectionHead: num_layers >= 2 linear layers, all but the last followed by
// BatchNorm1d and ReLU.
std::unique_ptr<ProjectionHead> vicreg_projection_head(int64_t input_dim = 2048,
                                                       int64_t hidden_dim = 8192,
                                                       int64_t output_dim = 8192,
                                                       int num_layers = 3);

std::unique_ptr<ProjectionHead> swav_projection_head(int64_t input_dim = 2048,
                                                     int64_t hidden_dim = 2048,
                                                     int64_t output_dim = 128);

}  // namespace lumen
