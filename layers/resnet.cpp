#include "layers/resnet.h"

#include <cmath>

#include "engine/ops/ops.h"

namespace lumen {

namespace {

struct NamedConfig {
  const char* name;
  bool bottleneck;
  std::array<int, 4> blocks;
  bool small_image;
};

const NamedConfig kConfigs[] = {
    {"torchvision/resnet18", false, {2, 2, 2, 2}, false},
    {"torchvision/resnet34", false, {3, 4, 6, 3}, false},
    {"torchvision/resnet50", true, {3, 4, 6, 3}, false},
    {"torchvision/resnet101", true, {3, 4, 23, 3}, false},
    {"resnet-9", false, {1, 1, 1, 1}, true},
    {"resnet-18", false, {2, 2, 2, 2}, true},
    {"resnet-34", false, {3, 4, 6, 3}, true},
    {"resnet-50", true, {3, 4, 6, 3}, true},
};

// 1x1 conv + BN that matches the residual to the block's output (torchvision's "downsample").
std::unique_ptr<Sequential> make_downsample(int64_t in_channels, int64_t out_channels,
                                            int64_t stride) {
  auto seq = std::make_unique<Sequential>();
  seq->append(std::make_unique<Conv2d>(in_channels, out_channels, 1, stride, 0));
  seq->append(std::make_unique<BatchNorm2d>(out_channels));
  return seq;
}

}  // namespace

std::vector<std::string> resnet_names() {
  std::vector<std::string> names;
  for (const NamedConfig& c : kConfigs) names.push_back(c.name);
  return names;
}

ResNetConfig resnet_config(const std::string& name, double width) {
  LUMEN_CHECK(width > 0 && std::isfinite(width), "resnet '", name,
              "': the width multiplier must be positive, got ", width);
  for (const NamedConfig& c : kConfigs) {
    if (name == c.name) {
      ResNetConfig config;
      config.bottleneck = c.bottleneck;
      config.blocks = c.blocks;
      config.small_image = c.small_image;
      config.width = width;
      return config;
    }
  }
  std::string known;
  for (const std::string& n : resnet_names()) known += (known.empty() ? "" : ", ") + n;
  LUMEN_FAIL("unknown backbone '", name, "'; known ResNets: ", known);
}

BasicBlock::BasicBlock(int64_t in_channels, int64_t planes, int64_t stride) {
  conv1_ = add_child("conv1", std::make_unique<Conv2d>(in_channels, planes, 3, stride, 1));
  bn1_ = add_child("bn1", std::make_unique<BatchNorm2d>(planes));
  conv2_ = add_child("conv2", std::make_unique<Conv2d>(planes, planes, 3, 1, 1));
  bn2_ = add_child("bn2", std::make_unique<BatchNorm2d>(planes));
  if (stride != 1 || in_channels != planes * kExpansion) {
    downsample_ =
        add_child("downsample", make_downsample(in_channels, planes * kExpansion, stride));
  }
}

// relu(bn2(conv2(relu(bn1(conv1(x))))) + identity), each BN with its tail fused in.
Tensor BasicBlock::forward(const Tensor& x) {
  const Tensor out = bn1_->forward((*conv1_)(x), {Tensor(), true});
  const Tensor identity = downsample_ ? (*downsample_)(x) : x;
  return bn2_->forward((*conv2_)(out), {identity, true});
}

Bottleneck::Bottleneck(int64_t in_channels, int64_t planes, int64_t stride) {
  conv1_ = add_child("conv1", std::make_unique<Conv2d>(in_channels, planes, 1, 1, 0));
  bn1_ = add_child("bn1", std::make_unique<BatchNorm2d>(planes));
  conv2_ = add_child("conv2", std::make_unique<Conv2d>(planes, planes, 3, stride, 1));
  bn2_ = add_child("bn2", std::make_unique<BatchNorm2d>(planes));
  conv3_ = add_child("conv3", std::make_unique<Conv2d>(planes, planes * kExpansion, 1, 1, 0));
  bn3_ = add_child("bn3", std::make_unique<BatchNorm2d>(planes * kExpansion));
  if (stride != 1 || in_channels != planes * kExpansion) {
    downsample_ =
        add_child("downsample", make_downsample(in_channels, planes * kExpansion, stride));
  }
}

Tensor Bottleneck::forward(const Tensor& x) {
  Tensor out = bn1_->forward((*conv1_)(x), {Tensor(), true});
  out = bn2_->forward((*conv2_)(out), {Tensor(), true});
  const Tensor identity = downsample_ ? (*downsample_)(x) : x;
  return bn3_->forward((*conv3_)(out), {identity, true});
}

ResNet::ResNet(const ResNetConfig& config) : config_(config) {
  // lightly's ResNetGenerator: base = int(64 * width), truncated; stages base, 2, 4, 8 x base.
  const int64_t base = int64_t(64 * config.width);
  LUMEN_CHECK(base >= 1, "ResNet: width ", config.width, " leaves no channels (64 * width < 1)");
  if (config.small_image) {
    conv1_ = add_child("conv1", std::make_unique<Conv2d>(config.in_channels, base, 3, 1, 1));
  } else {
    conv1_ = add_child("conv1", std::make_unique<Conv2d>(config.in_channels, base, 7, 2, 3));
  }
  bn1_ = add_child("bn1", std::make_unique<BatchNorm2d>(base));
  if (!config.small_image) maxpool_ = add_child("maxpool", std::make_unique<MaxPool2d>(3, 2, 1));
  const int64_t expansion = config.bottleneck ? Bottleneck::kExpansion : BasicBlock::kExpansion;
  int64_t in_channels = base;
  for (int stage = 0; stage < 4; ++stage) {
    const int64_t planes = base << stage;
    auto seq = std::make_unique<Sequential>();
    for (int b = 0; b < config.blocks[stage]; ++b) {
      const int64_t stride = (stage > 0 && b == 0) ? 2 : 1;
      if (config.bottleneck) {
        seq->append(std::make_unique<Bottleneck>(in_channels, planes, stride));
      } else {
        seq->append(std::make_unique<BasicBlock>(in_channels, planes, stride));
      }
      in_channels = planes * expansion;
    }
    stages_[stage] = add_child("layer" + std::to_string(stage + 1), std::move(seq));
  }
  feature_dim_ = in_channels;
}

Tensor ResNet::forward(const Tensor& x) {
  LUMEN_CHECK(x.ndim() == 4 && x.size(3) == config_.in_channels,
              "ResNet: expects NHWC images (N, H, W, ", config_.in_channels, "), got ", x.str(),
              "; permute NCHW batches to NHWC first");
  Tensor y = bn1_->forward((*conv1_)(x), {Tensor(), true});
  if (maxpool_) y = (*maxpool_)(y);
  for (Sequential* stage : stages_) y = (*stage)(y);
  return global_avg_pool(y);
}

std::unique_ptr<ResNet> make_resnet(const std::string& name, double width) {
  return std::make_unique<ResNet>(resnet_config(name, width));
}

}  // namespace lumen
