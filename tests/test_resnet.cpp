// ResNets: the factory, golden forward+backward against torchvision-structured PyTorch models
// (narrow ResNet-18 with the torchvision stem, narrow ResNet-50 small-image variant; train and eval
// mode; fixtures from tools/fixtures/resnet.py), and weights in/out in torchvision's format.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/testing.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "engine/io/safetensors.h"
#include "engine/ops/ops.h"
#include "layers/resnet.h"
#include "layers/weights.h"

using namespace lumen;
using testing::check_close;

namespace {
constexpr double kTol = 1e-4;

struct Golden {
  SafetensorsFile file;
  std::map<std::string, Tensor> state;  // torchvision state dict
  Tensor at(const std::string& name) const {
    auto found = file.tensors.find(name);
    REQUIRE_MESSAGE(found != file.tensors.end(), "fixture tensor ", name, " is missing");
    return found->second.clone();
  }
};

Golden load_golden(const std::string& path) {
  Golden g{load_safetensors(path), {}};
  for (auto& [name, t] : g.file.tensors) {
    if (name.rfind("state.", 0) == 0) g.state[name.substr(6)] = t;
  }
  return g;
}

std::unique_ptr<ResNet> built(const std::string& name, double width, uint64_t seed = 0,
                              Device device = Device::cpu()) {
  auto net = make_resnet(name, width);
  static std::vector<std::unique_ptr<ParameterBuffer>> keep;  // parameters outlive each test
  keep.push_back(std::make_unique<ParameterBuffer>());
  finalize(*net, *keep.back(), device, seed);
  return net;
}

int64_t declared_count(Module& m) {
  int64_t n = 0;
  for (auto& p : m.parameters()) n += shape_numel(p.shape);
  for (auto& [name, child] : m.children()) n += declared_count(*child);
  return n;
}

Tensor torch_layout(const Tensor& t) { return t.ndim() == 4 ? ohwi_to_oihw(t) : t; }

// max |a - b| / max |b|: the error relative to the tensor's scale. Gradients of a deep network in
// training mode are sums with heavy cancellation, so a few of their elements are far smaller than
// the rest; elementwise, PyTorch's own fp32 gradients differ from its float64 ones by up to ~1e-3
// on these fixtures (measured), while normwise Lumen agrees with the reference to ~1e-5.
void check_close_normwise(const Tensor& actual, const Tensor& expected, double tol,
                          const std::string& what) {
  REQUIRE_MESSAGE(actual.shape() == expected.shape(), what, ": shape ", actual.str(), " vs ",
                  expected.str());
  const std::vector<double> a = actual.to_doubles(), b = expected.to_doubles();
  double diff = 0, scale = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, std::abs(a[i] - b[i]));
    scale = std::max(scale, std::abs(b[i]));
  }
  const double err = diff / std::max(scale, 1e-30);
  CHECK_MESSAGE(err <= tol, what, ": normwise relative error ", err, " > ", tol);
}

// The fixture's network in fp32 on `device`, train and eval mode, against PyTorch's float64
// results (tol: relative, features elementwise, gradients normwise).
void check_against_golden(const std::string& arch, double width, const std::string& path,
                          Device device = Device::cpu(), double tol = kTol) {
  const Golden g = load_golden(path);
  for (const char* mode : {"train", "eval"}) {
    CAPTURE(mode);
    const bool training = std::string(mode) == "train";
    auto net = built(arch, width, 0, device);
    load_backbone_state_dict(*net, g.state, path);
    net->train(training);
    Tensor x = g.at("input").to(device).set_requires_grad();
    Tensor features = (*net)(x);
    CHECK(features.shape() == Shape{x.size(0), net->feature_dim()});
    check_close(features.to(Device::cpu()), g.at(std::string(mode) + ".features"), tol, "features");
    sum(mul(features, g.at(std::string(mode) + ".g").to(device))).backward();
    check_close_normwise(x.grad().to(Device::cpu()), g.at(std::string(mode) + ".dx"), tol,
                         "input gradient");
    if (!training) continue;
    int checked = 0;
    for (auto& [name, p] : net->named_parameters()) {
      check_close_normwise(torch_layout(p.grad().to(Device::cpu())), g.at("train.grad." + name),
                           tol, "grad " + name);
      ++checked;
    }
    CHECK(checked == int(net->named_parameters().size()));
    for (auto& [name, b] : net->named_buffers()) {
      if (name.find("running") != std::string::npos) {
        check_close(b.to(Device::cpu()), g.at("train.after." + name), tol, "buffer " + name);
      } else {
        CHECK_MESSAGE(b.data<int64_t>()[0] == 4, name);  // 3 in the file, one training step
      }
    }
  }
}
}  // namespace

TEST_CASE("resnet factory: names, feature sizes, torchvision key names and parameter counts") {
  CHECK(make_resnet("torchvision/resnet18")->feature_dim() == 512);
  CHECK(make_resnet("torchvision/resnet50")->feature_dim() == 2048);
  CHECK(make_resnet("resnet-9", 0.5)->feature_dim() == 256);
  CHECK(make_resnet("resnet-50", 0.25)->feature_dim() == 512);
  CHECK_THROWS_WITH_AS(make_resnet("resnet-152"), doctest::Contains("known ResNets"), Error);
  CHECK_THROWS_WITH_AS(make_resnet("resnet-18", 0.0), doctest::Contains("width"), Error);
  // torchvision's resnet18 has 11,689,512 parameters with fc (512 * 1000 + 1000) and 11,176,512
  // without; resnet50 23,508,032 without fc. (Counted from the declarations, without allocating.)
  auto r18 = make_resnet("torchvision/resnet18");
  CHECK(declared_count(*r18) == 11176512);
  CHECK(declared_count(*make_resnet("torchvision/resnet50")) == 23508032);
  auto names = r18->named_parameters();
  CHECK(names.size() == 60);  // 20 convs + 20 BNs x (weight, bias)
  CHECK(names.front().first == "conv1.weight");
  auto has = [&](const std::string& n) {
    for (auto& entry : names) {
      if (entry.first == n) return true;
    }
    return false;
  };
  CHECK(has("layer2.0.downsample.0.weight"));
  CHECK(has("layer2.0.downsample.1.bias"));
  CHECK(has("layer4.1.bn2.bias"));
  CHECK(!has("layer1.0.downsample.0.weight"));  // stride 1, same width: no downsample
  CHECK(r18->named_buffers().size() == 20 * 3);
}

TEST_CASE("resnet init follows torchvision: Kaiming normal fan_out convs, BN weight 1 bias 0") {
  auto net = built("resnet-18", 0.5, 3);
  int seen = 0;
  for (auto& [name, p] : net->named_parameters()) {
    if (name == "layer3.0.conv2.weight") {  // (128, 3, 3, 128): fan_out = 128 * 9
      const std::vector<double> v = p.to_doubles();
      double ss = 0, s = 0;
      for (double e : v) ss += e * e, s += e;
      const double var = ss / v.size() - (s / v.size()) * (s / v.size());
      CHECK(var == doctest::Approx(2.0 / (128 * 9)).epsilon(0.02));
      ++seen;
    }
    if (name == "layer3.0.bn2.weight") {
      CHECK(p.to_doubles() == std::vector<double>(128, 1.0));
      ++seen;
    }
    if (name == "layer3.0.bn2.bias") {
      CHECK(p.to_doubles() == std::vector<double>(128, 0.0));
      ++seen;
    }
  }
  CHECK(seen == 3);
}

TEST_CASE("narrow ResNet-18 (torchvision stem) matches PyTorch, train and eval") {
  check_against_golden("torchvision/resnet18", 0.0625, "fixtures/resnet18_narrow.safetensors");
}

TEST_CASE("narrow ResNet-50 (small-image stem) matches PyTorch, train and eval") {
  check_against_golden("resnet-50", 0.03125, "fixtures/resnet50_narrow.safetensors");
}

TEST_CASE("GPU: narrow ResNet-18 and ResNet-50 in f32 match PyTorch, train and eval") {
  if (!testing::cuda_or_skip()) return;
  // cuDNN's f32 algorithms (FMA, no TF32) sum in other orders than the CPU: 1e-3, not 1e-4.
  check_against_golden("torchvision/resnet18", 0.0625, "fixtures/resnet18_narrow.safetensors",
                       Device::cuda(0), 1e-3);
  check_against_golden("resnet-50", 0.03125, "fixtures/resnet50_narrow.safetensors",
                       Device::cuda(0), 1e-3);
}

TEST_CASE("backbone weights: safetensors round trip and clear errors") {
  auto a = built("resnet-9", 0.125, 1);
  const std::string path = "resnet_roundtrip_test.safetensors";
  save_backbone(*a, path);
  SafetensorsFile file = load_safetensors(path);
  CHECK(file.tensors.at("conv1.weight").shape() == Shape{8, 3, 3, 3});  // OIHW on disk
  CHECK(file.tensors.at("bn1.num_batches_tracked").dtype() == DType::i64);
  auto b = built("resnet-9", 0.125, 2);
  load_backbone(*b, path);
  auto sa = backbone_state_dict(*a), sb = backbone_state_dict(*b);
  REQUIRE(sa.size() == sb.size());
  for (auto& [name, t] : sa) CHECK_MESSAGE(t.to_doubles() == sb.at(name).to_doubles(), name);

  // A classifier head is ignored; unknown, missing and mis-shaped keys are errors.
  auto with_fc = file.tensors;
  with_fc["fc.weight"] = Tensor::zeros({10, 64});
  with_fc["fc.bias"] = Tensor::zeros({10});
  load_backbone_state_dict(*b, with_fc);
  auto unknown = file.tensors;
  unknown["layer5.0.conv1.weight"] = Tensor::zeros({1});
  CHECK_THROWS_WITH_AS(load_backbone_state_dict(*b, unknown),
                       doctest::Contains("layer5.0.conv1.weight"), Error);
  auto missing = file.tensors;
  missing.erase("layer2.0.bn1.running_var");
  CHECK_THROWS_WITH_AS(load_backbone_state_dict(*b, missing),
                       doctest::Contains("lacks layer2.0.bn1.running_var"), Error);
  auto wider = built("resnet-9", 0.25, 1);
  CHECK_THROWS_WITH_AS(load_backbone(*wider, path), doctest::Contains("do not fit"), Error);

  // A state dict without num_batches_tracked (older PyTorch) loads with the counters at 0, as
  // PyTorch does.
  auto no_counters = file.tensors;
  for (auto it = no_counters.begin(); it != no_counters.end();) {
    const bool counter = it->first.find("num_batches_tracked") != std::string::npos;
    it = counter ? no_counters.erase(it) : std::next(it);
  }
  REQUIRE(no_counters.size() < file.tensors.size());
  auto c = built("resnet-9", 0.125, 3);
  backbone_state_dict(*c);  // allocated
  load_backbone_state_dict(*c, no_counters);
  auto sc = backbone_state_dict(*c);
  CHECK(sc.at("bn1.num_batches_tracked").to_doubles() == std::vector<double>{0});
  CHECK(sc.at("conv1.weight").to_doubles() == sa.at("conv1.weight").to_doubles());

  // A tensor of the wrong dtype is rejected before anything is copied: the backbone is unchanged.
  auto d = built("resnet-9", 0.125, 4);
  const auto before = backbone_state_dict(*d);
  auto bad_dtype = file.tensors;
  bad_dtype["layer4.0.bn2.weight"] =
      Tensor::zeros(bad_dtype.at("layer4.0.bn2.weight").shape(), DType::i64);
  CHECK_THROWS_WITH_AS(load_backbone_state_dict(*d, bad_dtype),
                       doctest::Contains("layer4.0.bn2.weight (file has i64"), Error);
  const auto after = backbone_state_dict(*d);
  for (auto& [name, t] : before) CHECK_MESSAGE(t.to_doubles() == after.at(name).to_doubles(), name);
  std::remove(path.c_str());
}

TEST_CASE("resnet: the width multiplier truncates 64 * width, as lightly's ResNetGenerator") {
  // int(64 * 0.7) = 44 (rounding would give 45); stages 44, 88, 176, 352.
  auto net = built("resnet-9", 0.7, 1);
  auto state = backbone_state_dict(*net);
  CHECK(state.at("conv1.weight").shape() == Shape{44, 3, 3, 3});
  CHECK(state.at("layer4.0.conv2.weight").shape() == Shape{352, 352, 3, 3});
}
