// ResNet backbones as torchvision builds them (BasicBlock / Bottleneck with the stride on the 3x3
// conv, downsample = 1x1 conv + BN) and the small-image variant lightly's benchmarks use (3x3
// stride-1 stem, no max-pool), with a width multiplier. Module names follow torchvision
// ("conv1", "bn1", "layer1.0.conv1", "layer2.0.downsample.0", ...), without "fc": the output is the
// pooled feature vector.
//   input: (N, H, W, 3) NHWC  ->  features: (N, 512 * width) or (N, 2048 * width) for Bottleneck
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "layers/layers.h"

namespace lumen {

struct ResNetConfig {
  bool bottleneck = false;  // Bottleneck (50, 101) or BasicBlock (9, 18, 34)
  std::array<int, 4> blocks{2, 2, 2, 2};
  bool small_image = false;  // 3x3 stride-1 stem without max-pool (CIFAR-sized inputs)
  double width = 1.0;        // channels of the stem and first stage: 64 * width
  int64_t in_channels = 3;
};

// Names: "torchvision/resnet18|34|50|101" (7x7 stem + max-pool) and "resnet-9|18|34|50" (small
// images). Throws for other names, listing the known ones.
ResNetConfig resnet_config(const std::string& name, double width = 1.0);
std::vector<std::string> resnet_names();

class BasicBlock : public Module {
 public:
  static constexpr int64_t kExpansion = 1;
  BasicBlock(int64_t in_channels, int64_t planes, int64_t stride);
  Tensor forward(const Tensor& x) override;

 private:
  Conv2d *conv1_, *conv2_;
  BatchNorm2d *bn1_, *bn2_;
  Sequential* downsample_ = nullptr;
};

class Bottleneck : public Module {
 public:
  static constexpr int64_t kExpansion = 4;
  Bottleneck(int64_t in_channels, int64_t planes, int64_t stride);
  Tensor forward(const Tensor& x) override;

 private:
  Conv2d *conv1_, *conv2_, *conv3_;
  BatchNorm2d *bn1_, *bn2_, *bn3_;
  Sequential* downsample_ = nullptr;
};

class ResNet : public Module {
 public:
  explicit ResNet(const ResNetConfig& config);
  Tensor forward(const Tensor& x) override;  // (N, H, W, in_channels) -> (N, feature_dim())
  int64_t feature_dim() const { return feature_dim_; }
  const ResNetConfig& config() const { return config_; }

 private:
  ResNetConfig config_;
  int64_t feature_dim_ = 0;
  Conv2d* conv1_;
  BatchNorm2d* bn1_;
  MaxPool2d* maxpool_ = nullptr;
  std::array<Sequential*, 4> stages_{};
};

// The factory by name (see resnet_config).
std::unique_ptr<ResNet> make_resnet(const std::string& name, double width = 1.0);

}  // namespace lumen
