#include "layers/layers.h"

#include <cmath>

#include "engine/ops/ops.h"

namespace lumen {

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel, int64_t stride,
               int64_t padding, bool bias)
    : in_channels(in_channels),
      out_channels(out_channels),
      kernel(kernel),
      stride(stride),
      padding(padding),
      has_bias(bias) {
  LUMEN_CHECK(in_channels > 0 && out_channels > 0 && kernel > 0 && stride > 0 && padding >= 0,
              "Conv2d: channels, kernel and stride must be positive and padding >= 0, got in ",
              in_channels, ", out ", out_channels, ", kernel ", kernel, ", stride ", stride,
              ", padding ", padding);
  declare_parameter("weight", {out_channels, kernel, kernel, in_channels},
                    kaiming_normal_fan_out(out_channels * kernel * kernel));
  // PyTorch's default bias: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (torchvision's ResNets have none).
  if (bias) {
    declare_parameter("bias", {out_channels},
                      uniform_init(1.0 / std::sqrt(double(in_channels * kernel * kernel))));
  }
}

Tensor Conv2d::forward(const Tensor& x) {
  const DType t = x.dtype();
  return conv2d(x, to_dtype(parameter(0), t), has_bias ? to_dtype(parameter(1), t) : Tensor(),
                stride, padding);
}

BatchNorm::BatchNorm(int64_t channels, int input_ndim, bool affine, double momentum, double eps)
    : channels(channels), input_ndim(input_ndim), affine(affine), momentum(momentum), eps(eps) {
  LUMEN_CHECK(channels > 0, "BatchNorm: channels must be positive, got ", channels);
  if (affine) {
    declare_parameter("weight", {channels}, constant_init(1));
    declare_parameter("bias", {channels}, constant_init(0));
  }
  declare_buffer("running_mean", Tensor::zeros({channels}));
  declare_buffer("running_var", Tensor::full({channels}, 1.0));
  declare_buffer("num_batches_tracked", Tensor::zeros({}, DType::i64));
}

Tensor BatchNorm::forward(const Tensor& x) { return forward(x, BatchNormTail{}); }

Tensor BatchNorm::forward(const Tensor& x, const BatchNormTail& tail) {
  LUMEN_CHECK(x.ndim() == input_ndim && x.size(-1) == channels, "BatchNorm",
              (input_ndim == 4 ? "2d" : "1d"), "(", channels, "): expects ",
              (input_ndim == 4 ? "NHWC (N, H, W, C)" : "(N, C)"), " with C = ", channels, ", got ",
              x.str());
  Tensor y = batch_norm(x, affine ? parameter(0) : Tensor(), affine ? parameter(1) : Tensor(),
                        buffer(0), buffer(1), training(), momentum, eps, tail, sync.get());
  // A host counter, advanced only by a forward that succeeded (a rejected batch counts nothing).
  if (training()) buffer(2).data<int64_t>()[0] += 1;
  return y;
}

int sync_batch_norms(Module& root, const std::shared_ptr<Communicator>& comm) {
  int count = 0;
  if (auto* bn = dynamic_cast<BatchNorm*>(&root)) {
    bn->sync = comm;
    ++count;
  }
  for (const auto& [name, child] : root.children()) count += sync_batch_norms(*child, comm);
  return count;
}

Linear::Linear(int64_t in_features, int64_t out_features, bool bias)
    : in_features(in_features), out_features(out_features), has_bias(bias) {
  LUMEN_CHECK(in_features > 0 && out_features > 0, "Linear: sizes must be positive, got ",
              in_features, " -> ", out_features);
  const double bound = 1.0 / std::sqrt(double(in_features));
  declare_parameter("weight", {out_features, in_features}, uniform_init(bound));
  if (bias) declare_parameter("bias", {out_features}, uniform_init(bound));
}

Tensor Linear::forward(const Tensor& x) {
  const DType t = x.dtype();
  return linear(x, to_dtype(parameter(0), t), has_bias ? to_dtype(parameter(1), t) : Tensor());
}

Tensor ReLU::forward(const Tensor& x) { return relu(x); }

Tensor GELU::forward(const Tensor& x) { return gelu(x); }

WeightNormLinear::WeightNormLinear(int64_t in_features, int64_t out_features, bool train_scale)
    : in_features(in_features), out_features(out_features), train_scale(train_scale) {
  LUMEN_CHECK(in_features > 0 && out_features > 0, "WeightNormLinear: sizes must be positive, got ",
              in_features, " -> ", out_features);
  // lightly's state-dict order: weight_g, then weight_v
  if (train_scale) {
    g_ = declare_parameter("weight_g", {out_features, 1}, constant_init(1));
  } else {
    g_ = declare_buffer("weight_g", Tensor::full({out_features, 1}, 1.0));
  }
  v_ = declare_parameter("weight_v", {out_features, in_features},
                         uniform_init(1.0 / std::sqrt(double(in_features))));
}

Tensor WeightNormLinear::forward(const Tensor& x) {
  const Tensor& g = train_scale ? parameter(g_) : buffer(g_);
  return linear(x, to_dtype(weight_norm(parameter(v_), g), x.dtype()), Tensor());
}

Tensor ModuleList::forward(const Tensor&) {
  LUMEN_FAIL("a ModuleList has no forward: call its modules one by one");
}

Tensor MaxPool2d::forward(const Tensor& x) { return max_pool2d(x, kernel, stride, padding); }

Tensor GlobalAvgPool::forward(const Tensor& x) { return global_avg_pool(x); }

Tensor Flatten::forward(const Tensor& x) {
  LUMEN_CHECK(x.ndim() >= 1, "Flatten: needs a batch dim, got ", x.str());
  return x.reshape({x.size(0), x.numel() / std::max<int64_t>(1, x.size(0))});
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (Module* layer : layers_) y = (*layer)(y);
  return y;
}

}  // namespace lumen
