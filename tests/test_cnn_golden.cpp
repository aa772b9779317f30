// CNN ops against PyTorch (tests/fixtures/cnn_layers.safetensors, written by
// tools/fixtures/resnet.py): forward outputs and input / weight gradients in fp32 on the CPU, to
// 1e-4 relative. Activations NHWC, convolution weights OHWI in the fixture.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/testing.h"

#include "engine/io/safetensors.h"
#include "engine/ops/ops.h"

using namespace lumen;
using testing::check_close;

namespace {
constexpr double kTol = 1e-4;

const SafetensorsFile& fixture() {
  static const SafetensorsFile file = load_safetensors("fixtures/cnn_layers.safetensors");
  return file;
}
Tensor get(const std::string& name) {
  auto found = fixture().tensors.find(name);
  REQUIRE_MESSAGE(found != fixture().tensors.end(), "fixture tensor ", name, " is missing");
  return found->second.clone();
}
Tensor param(const std::string& name) { return get(name).set_requires_grad(); }
}  // namespace

TEST_CASE("conv2d matches PyTorch (forward, dx, dw, db)") {
  struct Case {
    const char* name;
    int64_t stride, padding;
  };
  for (Case c : {Case{"k3s1p1_bias", 1, 1}, Case{"k3s2p1", 2, 1}, Case{"k1s1p0", 1, 0},
                 Case{"k1s2p0", 2, 0}, Case{"k7s2p3", 2, 3}}) {
    const std::string pre = std::string("conv.") + c.name + ".";
    CAPTURE(pre);
    Tensor x = param(pre + "x"), w = param(pre + "w");
    const bool has_bias = fixture().tensors.count(pre + "b") != 0;
    Tensor b = has_bias ? param(pre + "b") : Tensor();
    Tensor y = conv2d(x, w, b, c.stride, c.padding);
    check_close(y, get(pre + "y"), kTol, pre + "y");
    sum(mul(y, get(pre + "g"))).backward();
    check_close(x.grad(), get(pre + "dx"), kTol, pre + "dx");
    check_close(w.grad(), get(pre + "dw"), kTol, pre + "dw");
    if (has_bias) check_close(b.grad(), get(pre + "db"), kTol, pre + "db");
  }
}

TEST_CASE("batch_norm matches PyTorch (train and eval, affine and not, 1d and 2d, no stats)") {
  for (const char* name : {"bn2d_train", "bn2d_eval", "bn2d_train_noaffine", "bn1d_train",
                           "bn1d_eval", "bn1d_train_noaffine", "bn2d_train_nostats"}) {
    const std::string pre = std::string("bn.") + name + ".";
    CAPTURE(pre);
    const bool training = std::string(name).find("train") != std::string::npos;
    const bool affine = fixture().tensors.count(pre + "w") != 0;
    const bool stats = fixture().tensors.count(pre + "running_mean") != 0;
    Tensor x = param(pre + "x");
    Tensor w = affine ? param(pre + "w") : Tensor(), b = affine ? param(pre + "b") : Tensor();
    Tensor rm = stats ? get(pre + "running_mean") : Tensor();
    Tensor rv = stats ? get(pre + "running_var") : Tensor();
    Tensor y = batch_norm(x, w, b, rm, rv, training, 0.1, 1e-5);
    check_close(y, get(pre + "y"), kTol, pre + "y");
    if (stats) {
      check_close(rm, get(pre + "running_mean_after"), kTol, pre + "running_mean");
      check_close(rv, get(pre + "running_var_after"), kTol, pre + "running_var");
    }
    sum(mul(y, get(pre + "g"))).backward();
    check_close(x.grad(), get(pre + "dx"), kTol, pre + "dx");
    if (affine) {
      check_close(w.grad(), get(pre + "dw"), kTol, pre + "dw");
      check_close(b.grad(), get(pre + "db"), kTol, pre + "db");
    }
  }
}

TEST_CASE("relu matches PyTorch, with a zero gradient at exactly 0") {
  Tensor x = param("relu.x");
  Tensor y = relu(x);
  check_close(y, get("relu.y"), 0, "relu y");
  sum(mul(y, get("relu.g"))).backward();
  check_close(x.grad(), get("relu.dx"), 0, "relu dx");
  CHECK(x.to_doubles()[0] == 0.0);  // the fixture has its zeros where expected
}

TEST_CASE("max_pool2d, global_avg_pool and linear match PyTorch") {
  Tensor x = param("maxpool.x");
  Tensor y = max_pool2d(x, 3, 2, 1);
  check_close(y, get("maxpool.y"), kTol, "maxpool y");
  sum(mul(y, get("maxpool.g"))).backward();
  check_close(x.grad(), get("maxpool.dx"), kTol, "maxpool dx");

  Tensor xa = param("avgpool.x");
  Tensor ya = global_avg_pool(xa);
  check_close(ya, get("avgpool.y"), kTol, "avgpool y");
  sum(mul(ya, get("avgpool.g"))).backward();
  check_close(xa.grad(), get("avgpool.dx"), kTol, "avgpool dx");

  Tensor xl = param("linear.x"), wl = param("linear.w"), bl = param("linear.b");
  Tensor yl = linear(xl, wl, bl);
  check_close(yl, get("linear.y"), kTol, "linear y");
  sum(mul(yl, get("linear.g"))).backward();
  check_close(xl.grad(), get("linear.dx"), kTol, "linear dx");
  check_close(wl.grad(), get("linear.dw"), kTol, "linear dw");
  check_close(bl.grad(), get("linear.db"), kTol, "linear db");
}
