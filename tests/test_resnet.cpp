// ResNets: the factory, golden forward+backward against torchvision-structured PyTorch models
// (narrow ResNet-18 with the torchvision stem, narrow ResNet-50 small-image variant; train and eval
// mode; fixtures from tools/fixtures/resnet.py), and weights in/out in torchvision's format (the
// same fixtures on the GPU: test_resnet_cuda.cpp).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/resnet_golden.h"
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
using testing::resnet_golden::built;
using testing::resnet_golden::check_against_golden;

namespace {
int64_t declared_count(Module& m) {
  int64_t n = 0;
  for (auto& p : m.parameters()) n += shape_numel(p.shape);
  for (auto& [name, child] : m.children()) n += declared_count(*child);
  return n;
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
