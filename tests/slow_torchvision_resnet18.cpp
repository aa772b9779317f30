// A torchvision ResNet-18 state dict (saved as safetensors by
// tools/fixtures/torchvision_resnet18.py) loaded by Lumen embeds an image to the same 512 features
// torchvision computes (fp32, CPU, 1e-4 relative); Lumen's export of it loads back identically.
// The fixture is ~45 MiB and not committed: without it the suite is skipped (exit 77, "skipped" in
// ctest).
#define DOCTEST_CONFIG_IMPLEMENT
#include "support/testing.h"

#include <cstdio>
#include <fstream>

#include "engine/io/safetensors.h"
#include "engine/ops/ops.h"
#include "layers/resnet.h"
#include "layers/weights.h"

using namespace lumen;

namespace {
const char* kFixture = "fixtures/torchvision_resnet18.safetensors";
}  // namespace

TEST_CASE("torchvision ResNet-18 weights embed an image to torchvision's features") {
  const std::string path = kFixture;
  SafetensorsFile file = load_safetensors(path);
  auto net = make_resnet("torchvision/resnet18");
  ParameterBuffer params;
  finalize(*net, params, Device::cpu(), 0);
  std::map<std::string, Tensor> state = file.tensors;  // a torchvision state dict, with fc
  state.erase("image");
  state.erase("features");
  load_backbone_state_dict(*net, state, path);  // fc is ignored
  net->eval();
  NoGrad no_grad;
  Tensor features = (*net)(file.tensors.at("image"));
  CHECK(features.shape() == Shape{1, 512});
  testing::check_close(features, file.tensors.at("features"), 1e-4, "resnet18 features");
  MESSAGE("max relative error of the 512 features: " << testing::max_relative_error(
              features, file.tensors.at("features")));

  // Lumen's export: torchvision keys and layouts (checked against torchvision itself by
  // tools/fixtures/torchvision_resnet18.py --check-export), and a lossless round trip.
  const std::string exported = "fixtures/lumen_resnet18_export.safetensors";
  save_backbone(*net, exported);
  SafetensorsFile back = load_safetensors(exported);
  for (auto& [name, t] : back.tensors) {
    REQUIRE_MESSAGE(file.tensors.count(name), name);
    CHECK_MESSAGE(t.to_doubles() == file.tensors.at(name).to_doubles(), name);
  }
  CHECK(back.tensors.size() + 2 == state.size());  // all but fc.weight and fc.bias
}

int main(int argc, char** argv) {
  if (!std::ifstream(kFixture).good()) {
    return testing::skip_suite(std::string(kFixture) +
                               " is absent; create it with python3 tools/fixtures/"
                               "torchvision_resnet18.py");
  }
  return doctest::Context(argc, argv).run();
}
