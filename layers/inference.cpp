#include "layers/inference.h"

#include <cmath>
#include <typeinfo>

#include "engine/infer/pool_infer.h"
#include "layers/resnet.h"

namespace lumen {

namespace {

// The child `name` of m, as a T (nullptr when absent or of another type).
template <typename T>
T* child(Module& m, const std::string& name) {
  for (const auto& [n, c] : m.children()) {
    if (n == name) return typeid(*c) == typeid(T) ? static_cast<T*>(c) : nullptr;
  }
  return nullptr;
}

// Whether m is exactly a T (a subclass may compute something else).
template <typename T>
bool is_exactly(const Module& m) {
  return typeid(m) == typeid(T);
}

}  // namespace

int InferenceNet::add_value() { return values_++; }

// conv followed by its batch norm, folded: w' = w * s, b' = beta - mean * s (+ bias * s),
// s = gamma / sqrt(var + eps), in double.
int InferenceNet::add_conv(Module& conv_module, Module& bn_module, bool relu, int input,
                           int residual) {
  auto& conv = static_cast<Conv2d&>(conv_module);
  auto& bn = static_cast<BatchNorm&>(bn_module);
  LUMEN_CHECK(bn.channels == conv.out_channels, "InferenceNet: batch norm of ", bn.channels,
              " channels after a convolution of ", conv.out_channels);
  const std::vector<double> w = conv.weight().to_doubles();
  const std::vector<double> mean = bn.buffers().at(0).value.to_doubles();
  const std::vector<double> var = bn.buffers().at(1).value.to_doubles();
  std::vector<double> gamma(size_t(bn.channels), 1.0), beta(size_t(bn.channels), 0.0);
  if (bn.affine) {
    gamma = bn.parameters().at(0).value.to_doubles();
    beta = bn.parameters().at(1).value.to_doubles();
  }
  std::vector<double> conv_bias(size_t(conv.out_channels), 0.0);
  if (conv.has_bias) conv_bias = conv.parameters().at(1).value.to_doubles();
  const int64_t out_c = conv.out_channels, per_out = int64_t(w.size()) / out_c;
  std::vector<float> folded(w.size()), bias(static_cast<size_t>(out_c));
  for (int64_t o = 0; o < out_c; ++o) {
    const double s = gamma[size_t(o)] / std::sqrt(var[size_t(o)] + bn.eps);
    for (int64_t i = 0; i < per_out; ++i) {
      folded[size_t(o * per_out + i)] = float(w[size_t(o * per_out + i)] * s);
    }
    bias[size_t(o)] = float(beta[size_t(o)] + (conv_bias[size_t(o)] - mean[size_t(o)]) * s);
  }
  convs_.emplace_back(Tensor::from_vector(folded, conv.weight().shape()),
                      Tensor::from_vector(bias, {out_c}), conv.stride, conv.padding, relu);
  Step step;
  step.kind = Step::Kind::conv;
  step.conv = int(convs_.size()) - 1;
  step.input = input;
  step.residual = residual;
  step.output = add_value();
  steps_.push_back(step);
  return step.output;
}

std::unique_ptr<InferenceNet> InferenceNet::compile(Module& backbone) {
  if (!is_exactly<ResNet>(backbone)) return nullptr;
  auto& resnet = static_cast<ResNet&>(backbone);
  std::unique_ptr<InferenceNet> net(new InferenceNet());
  auto* conv1 = child<Conv2d>(resnet, "conv1");
  auto* bn1 = child<BatchNorm2d>(resnet, "bn1");
  if (!conv1 || !bn1) return nullptr;
  int x = net->add_conv(*conv1, *bn1, true, 0, -1);
  if (auto* pool = child<MaxPool2d>(resnet, "maxpool")) {
    Step step;
    step.kind = Step::Kind::max_pool;
    step.input = x;
    step.output = x = net->add_value();
    step.kernel = pool->kernel;
    step.stride = pool->stride;
    step.padding = pool->padding;
    net->steps_.push_back(step);
  }
  const bool bottleneck = resnet.config().bottleneck;
  for (int stage = 1; stage <= 4; ++stage) {
    auto* seq = child<Sequential>(resnet, "layer" + std::to_string(stage));
    if (!seq) return nullptr;
    for (const auto& [name, block] : seq->children()) {
      if (bottleneck ? !is_exactly<Bottleneck>(*block) : !is_exactly<BasicBlock>(*block)) {
        return nullptr;
      }
      int identity = x;
      if (auto* ds = child<Sequential>(*block, "downsample")) {
        auto* ds_conv = child<Conv2d>(*ds, "0");
        auto* ds_bn = child<BatchNorm2d>(*ds, "1");
        if (!ds_conv || !ds_bn) return nullptr;
        identity = net->add_conv(*ds_conv, *ds_bn, false, x, -1);
      }
      const int convs = bottleneck ? 3 : 2;
      int y = x;
      for (int i = 1; i <= convs; ++i) {
        auto* conv = child<Conv2d>(*block, "conv" + std::to_string(i));
        auto* bn = child<BatchNorm2d>(*block, "bn" + std::to_string(i));
        if (!conv || !bn) return nullptr;
        y = net->add_conv(*conv, *bn, true, y, i == convs ? identity : -1);
      }
      x = y;
    }
  }
  Step pool;
  pool.kind = Step::Kind::avg_pool;
  pool.input = x;
  pool.output = net->add_value();
  net->steps_.push_back(pool);
  net->feature_dim_ = resnet.feature_dim();
  net->assign_slots();
  return net;
}

std::vector<InferenceNet::Shape3> InferenceNet::value_shapes(int64_t h, int64_t w) const {
  std::vector<Shape3> shapes(size_t(values_), Shape3{0, 0, 0});
  shapes[0] = Shape3{h, w, in_channels()};
  for (const Step& s : steps_) {
    const Shape3 in = shapes[size_t(s.input)];
    Shape3& out = shapes[size_t(s.output)];
    if (s.kind == Step::Kind::conv) {
      const FusedConv& c = convs_[size_t(s.conv)];
      LUMEN_CHECK(in.c == c.in_channels(), "InferenceNet: expects ", c.in_channels(),
                  " input channels, got ", in.c);
      out = Shape3{c.out_size(in.h), c.out_size(in.w), c.out_channels()};
    } else if (s.kind == Step::Kind::max_pool) {
      out = Shape3{(in.h + 2 * s.padding - s.kernel) / s.stride + 1,
                   (in.w + 2 * s.padding - s.kernel) / s.stride + 1, in.c};
    } else {
      out = Shape3{1, 1, in.c};
    }
    LUMEN_CHECK(out.h >= 1 && out.w >= 1, "InferenceNet: images of ", h, "x", w,
                " are too small for this network");
  }
  return shapes;
}

// Buffers for the values: a value's slot is free again after the last step that reads it, so a
// ResNet needs four (a block's input, its intermediates, the downsampled identity, its output).
void InferenceNet::assign_slots() {
  std::vector<int> last_use(size_t(values_), -1);
  for (size_t i = 0; i < steps_.size(); ++i) {
    last_use[size_t(steps_[i].input)] = int(i);
    if (steps_[i].residual >= 0) last_use[size_t(steps_[i].residual)] = int(i);
  }
  slot_of_.assign(size_t(values_), -1);
  std::vector<int> busy_until;  // per slot: the last step reading the value it holds
  for (size_t i = 0; i < steps_.size(); ++i) {
    const int out = steps_[i].output;
    int slot = -1;
    for (size_t s = 0; s < busy_until.size() && slot < 0; ++s) {
      if (busy_until[s] < int(i)) slot = int(s);  // free before this step reads anything
    }
    if (slot < 0) {
      slot = int(busy_until.size());
      busy_until.push_back(-1);
    }
    slot_of_[size_t(out)] = slot;
    busy_until[size_t(slot)] = std::max(last_use[size_t(out)], int(i));
  }
  slots_ = int(busy_until.size());
}

void InferenceNet::forward_cpu(const float* x, int64_t n, int64_t h, int64_t w, float* out,
                               InferenceWorkspace& ws, int threads) const {
  const std::vector<Shape3> shapes = value_shapes(h, w);
  // Every slot sized for the largest value it holds at this shape (grown, never shrunk).
  std::vector<int64_t> need(size_t(slots_), 1);
  for (int v = 1; v < values_; ++v) {
    const Shape3& s = shapes[size_t(v)];
    need[size_t(slot_of_[size_t(v)])] =
        std::max(need[size_t(slot_of_[size_t(v)])], n * s.h * s.w * s.c);
  }
  ws.values.resize(size_t(slots_));
  for (int s = 0; s < slots_; ++s) {
    Tensor& b = ws.values[size_t(s)];
    if (!b.defined() || b.numel() < need[size_t(s)]) b = Tensor::empty({need[size_t(s)]});
  }
  auto data = [&](int v) -> float* {
    return v == 0 ? const_cast<float*>(x) : ws.values[size_t(slot_of_[size_t(v)])].data<float>();
  };
  for (const Step& s : steps_) {
    const Shape3& in = shapes[size_t(s.input)];
    float* y = s.output == steps_.back().output ? out : data(s.output);
    if (s.kind == Step::Kind::conv) {
      convs_[size_t(s.conv)].run_cpu(data(s.input), n, in.h, in.w,
                                     s.residual >= 0 ? data(s.residual) : nullptr, y, ws.scratch,
                                     threads);
    } else if (s.kind == Step::Kind::max_pool) {
      max_pool2d_infer_cpu(data(s.input), n, in.h, in.w, in.c, s.kernel, s.stride, s.padding, y,
                           threads);
    } else {
      global_avg_pool_infer_cpu(data(s.input), n, in.h * in.w, in.c, y, threads);
    }
  }
}

}  // namespace lumen
