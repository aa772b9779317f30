// The basic layers, as modules. Activations are NHWC (channel-last) on every device; convolution
// weights are OHWI (out, kh, kw, in). Parameters are f32 master weights: convolutions and linear
// layers cast them to the activations' dtype (a recorded cast, so gradients reach the f32
// weights); batch norm keeps its parameters and statistics in f32.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/ops/batchnorm.h"
#include "layers/module.h"

namespace lumen {

// x: (N, H, W, in) -> (N, OH, OW, out). Init: Kaiming normal, fan_out (torchvision's ResNet);
// bias (when enabled) zero.
class Conv2d : public Module {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel, int64_t stride = 1,
         int64_t padding = 0, bool bias = false);
  Tensor forward(const Tensor& x) override;
  const Tensor& weight() const { return parameter(0); }  // (out, kh, kw, in)
  int64_t in_channels, out_channels, kernel, stride, padding;
  bool has_bias;
};

// Normalises the last dim of (N, C) [BatchNorm1d] or (N, H, W, C) [BatchNorm2d].
// Buffers: running_mean (0), running_var (1), num_batches_tracked (i64, counts training steps).
class BatchNorm : public Module {
 public:
  BatchNorm(int64_t channels, int input_ndim, bool affine = true, double momentum = 0.1,
            double eps = 1e-5);
  Tensor forward(const Tensor& x) override;
  // relu?(bn(x) + residual?) in one pass (batch_norm's tail)
  Tensor forward(const Tensor& x, const BatchNormTail& tail);
  int64_t channels;
  int input_ndim;
  bool affine;
  double momentum, eps;
  // Set: torch's SyncBatchNorm, training statistics over every rank of this communicator (of
  // the activations' device); null: this rank's batch.
  std::shared_ptr<Communicator> sync;
};

// Makes every BatchNorm of the tree synchronised over `comm` (torch's convert_sync_batchnorm);
// returns how many there are.
int sync_batch_norms(Module& root, const std::shared_ptr<Communicator>& comm);
class BatchNorm2d : public BatchNorm {
 public:
  explicit BatchNorm2d(int64_t channels, bool affine = true, double momentum = 0.1,
                       double eps = 1e-5)
      : BatchNorm(channels, 4, affine, momentum, eps) {}
};
class BatchNorm1d : public BatchNorm {
 public:
  explicit BatchNorm1d(int64_t channels, bool affine = true, double momentum = 0.1,
                       double eps = 1e-5)
      : BatchNorm(channels, 2, affine, momentum, eps) {}
};

// x: (N, in) -> (N, out) = x @ weight^T + bias; weight (out, in). Init as torch.nn.Linear:
// U(-1/sqrt(in), 1/sqrt(in)) for both.
class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias = true);
  Tensor forward(const Tensor& x) override;
  int64_t in_features, out_features;
  bool has_bias;
};

class ReLU : public Module {
 public:
  Tensor forward(const Tensor& x) override;
};

// nn.GELU(): the exact (erf) form.
class GELU : public Module {
 public:
  Tensor forward(const Tensor& x) override;
};

// torch.nn.utils.weight_norm(nn.Linear(in, out, bias=False)) with dim 0, as lightly's DINO head
// uses it: x: (N, in) -> (N, out) = x @ w^T, w = weight_v * (weight_g / ||weight_v||) per row.
// weight_v: (out, in), initialised as nn.Linear's weight; weight_g: (out, 1), initialised to 1
// (lightly fills it with 1). train_scale = false (lightly's norm_last_layer): weight_g is a buffer
// of ones under the same name, never trained, so w has unit rows.
class WeightNormLinear : public Module {
 public:
  WeightNormLinear(int64_t in_features, int64_t out_features, bool train_scale);
  Tensor forward(const Tensor& x) override;
  int64_t in_features, out_features;
  bool train_scale;

 private:
  size_t v_ = 0, g_ = 0;  // parameter indices (g_: a buffer index without train_scale)
};

class MaxPool2d : public Module {
 public:
  MaxPool2d(int64_t kernel, int64_t stride, int64_t padding = 0)
      : kernel(kernel), stride(stride), padding(padding) {}
  Tensor forward(const Tensor& x) override;
  int64_t kernel, stride, padding;
};

// (N, H, W, C) -> (N, C)
class GlobalAvgPool : public Module {
 public:
  Tensor forward(const Tensor& x) override;
};

// (N, ...) -> (N, prod(...)). Note: NHWC flattens in (h, w, c) order, not PyTorch's (c, h, w).
class Flatten : public Module {
 public:
  Tensor forward(const Tensor& x) override;
};

// Children named "0", "1", ... that their owner calls one by one (torch's nn.ModuleList); it has
// no forward of its own.
class ModuleList : public Module {
 public:
  template <typename M>
  M* append(std::unique_ptr<M> module) {
    modules_.push_back(module.get());
    return add_child(std::to_string(modules_.size() - 1), std::move(module));
  }
  Module& operator[](size_t i) { return *modules_.at(i); }
  size_t size() const { return modules_.size(); }
  Tensor forward(const Tensor& x) override;  // throws: call the modules

 private:
  std::vector<Module*> modules_;
};

// Children named "0", "1", ... applied in order (torchvision's nn.Sequential names).
class Sequential : public Module {
 public:
  template <typename M>
  M* append(std::unique_ptr<M> layer) {
    layers_.push_back(layer.get());
    return add_child(std::to_string(layers_.size() - 1), std::move(layer));
  }
  Tensor forward(const Tensor& x) override;
  size_t size() const { return layers_.size(); }

 private:
  std::vector<Module*> layers_;
};

}  // namespace lumen
