// The inference path (layers/inference.h): batch norm folded into the convolutions, the epilogues
// fused, against the training path's eval forward of the same module, for every kind of ResNet.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/testing.h"

#include "engine/autograd/tape.h"
#include "engine/ops/ops.h"
#include "layers/inference.h"
#include "layers/resnet.h"

using namespace lumen;

namespace {

// Batch norms that are not the identity: random affine parameters and running statistics.
void randomise_batch_norms(Module& net, uint64_t seed) {
  for (auto& [name, t] : net.named_parameters()) {
    if (name.find("bn") != std::string::npos || name.find("downsample.1") != std::string::npos) {
      t.copy_from(Tensor::uniform(t.shape(), seed++, 0.5, 1.5));
    }
  }
  for (auto& [name, t] : net.named_buffers()) {
    if (name.find("running_mean") != std::string::npos) {
      t.copy_from(Tensor::normal(t.shape(), seed++, 0, 0.2));
    } else if (name.find("running_var") != std::string::npos) {
      t.copy_from(Tensor::uniform(t.shape(), seed++, 0.5, 2.0));
    }
  }
}

struct Net {
  std::unique_ptr<ResNet> module;
  ParameterBuffer params;
};

Net make(const std::string& name, double width) {
  Net n;
  n.module = make_resnet(name, width);
  finalize(*n.module, n.params, Device::cpu(), 3);
  randomise_batch_norms(*n.module, 11);
  n.module->eval();
  return n;
}

Tensor eval_forward(Module& m, const Tensor& x) {
  NoGrad no_grad;
  return m(x);
}

Tensor inference_forward(const InferenceNet& net, const Tensor& x, int threads,
                         InferenceWorkspace& ws) {
  Tensor out = testing::poisoned({x.size(0), net.feature_dim()}, DType::f32, Device::cpu());
  net.forward_cpu(x.data<float>(), x.size(0), x.size(1), x.size(2), out.data<float>(), ws, threads);
  return out;
}

}  // namespace

TEST_CASE("folded batch norm equals the training path's eval forward on every ResNet kind") {
  struct Kind {
    const char* name;
    double width;
    int64_t batch, size;
  };
  for (const Kind& k : {Kind{"torchvision/resnet18", 0.5, 2, 64}, Kind{"resnet-18", 0.25, 3, 32},
                        Kind{"torchvision/resnet50", 0.25, 2, 64}, Kind{"resnet-9", 0.25, 4, 28}}) {
    CAPTURE(k.name);
    Net n = make(k.name, k.width);
    std::unique_ptr<InferenceNet> net = InferenceNet::compile(*n.module);
    REQUIRE(net != nullptr);
    CHECK(net->feature_dim() == n.module->feature_dim());
    const Tensor x = Tensor::normal({k.batch, k.size, k.size, 3}, 5);
    const Tensor expected = eval_forward(*n.module, x);
    InferenceWorkspace ws;
    for (int threads : {1, 2}) {
      CAPTURE(threads);
      testing::check_scaled(inference_forward(*net, x, threads, ws), expected, 1e-5, k.name);
    }
    // The workspace sized for this batch serves a smaller one.
    const Tensor one = x.rows(0, 1).clone();
    testing::check_scaled(inference_forward(*net, one, 2, ws), eval_forward(*n.module, one), 1e-5,
                          "batch 1 after a larger batch");
  }
}

TEST_CASE("the compiled net keeps the weights it was compiled with") {
  Net n = make("resnet-9", 0.25);
  std::unique_ptr<InferenceNet> net = InferenceNet::compile(*n.module);
  const Tensor x = Tensor::normal({2, 16, 16, 3}, 9);
  const Tensor before = eval_forward(*n.module, x);
  Tensor values = n.params.values();
  values.fill(0.5);  // the module changes (a training step); the net does not
  InferenceWorkspace ws;
  testing::check_scaled(inference_forward(*net, x, 2, ws), before, 1e-5, "snapshot");
}

TEST_CASE("modules that are not ResNets are not compiled") {
  Sequential seq;
  seq.append(std::make_unique<Conv2d>(3, 8, 3, 1, 1));
  CHECK(InferenceNet::compile(seq) == nullptr);
}
