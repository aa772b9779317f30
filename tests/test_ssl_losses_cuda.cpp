// GPU against CPU for NegativeCosineSimilarity, DCLLoss and DCLWLoss (f32, f64, bf16): loss and
// input gradients on the same random inputs. Skips (saying so) where no CUDA device is present.
#include "support/testing.h"

#include <functional>

#include "engine/ops/ops.h"
#include "losses/dcl.h"
#include "losses/negative_cosine_similarity.h"

using namespace lumen;

namespace {

using LossFn = std::function<Tensor(const Tensor&, const Tensor&)>;

// Runs fn on the CPU and the GPU (with only the inputs in `grads` requiring grad) and compares.
void compare(const char* name, const LossFn& fn, int64_t n, int64_t dim, DType t,
             std::pair<bool, bool> grads = {true, true}) {
  CAPTURE(name);
  const std::string dtype_label = dtype_name(t);
  CAPTURE(dtype_label);
  const Device gpu = Device::cuda(0);
  Tensor a = Tensor::normal({n, dim}, 61, 0, 1, t), b = Tensor::normal({n, dim}, 62, 0, 1, t);
  Tensor ac = a.clone().set_requires_grad(grads.first),
         bc = b.clone().set_requires_grad(grads.second);
  Tensor ag = a.to(gpu).set_requires_grad(grads.first);
  Tensor bg = b.to(gpu).set_requires_grad(grads.second);
  // Each loss is backpropagated before the next forward: backward() clears the tape.
  Tensor lc = fn(ac, bc);
  lc.backward();
  Tensor lg = fn(ag, bg);
  lg.backward();
  const double tol = t == DType::bf16 ? testing::tolerance(t) : 10 * testing::tolerance(t);
  testing::check_close(lg, lc, tol, "loss");
  if (grads.first) {
    CHECK(testing::scaled_error(ag.grad(), ac.grad()) <= tol);
  } else {
    CHECK(!ag.grad().defined());
  }
  if (grads.second) {
    CHECK(testing::scaled_error(bg.grad(), bc.grad()) <= tol);
  } else {
    CHECK(!bg.grad().defined());
  }
}

}  // namespace

TEST_CASE("GPU: NegativeCosineSimilarity matches the CPU (f32/f64/bf16, one side detached)") {
  if (!testing::cuda_or_skip()) return;
  NegativeCosineSimilarity negcos;
  LossFn fn = [&](const Tensor& x, const Tensor& y) { return negcos(x, y); };
  for (DType t : {DType::f32, DType::f64, DType::bf16}) {
    compare("negcos", fn, 67, 300, t);  // rows longer than a block
    compare("negcos", fn, 5, 7, t, {true, false});
    compare("negcos", fn, 5, 7, t, {false, true});
  }
  // A row below eps takes PyTorch's clamped gradient on both devices.
  Tensor a = Tensor::normal({3, 4}, 1), b = Tensor::normal({3, 4}, 2);
  a.rows(1, 1).fill(1e-10);
  Tensor ac = a.clone().set_requires_grad(), ag = a.to(Device::cuda(0)).set_requires_grad();
  negcos(ac, b).backward();
  negcos(ag, b.to(Device::cuda(0))).backward();
  CHECK(testing::scaled_error(ag.grad(), ac.grad()) <= 1e-5);
}

TEST_CASE("GPU: DCLLoss and DCLWLoss match the CPU (f32/f64/bf16, batch 1)") {
  if (!testing::cuda_or_skip()) return;
  DCLLoss dcl;
  DCLWLoss dclw;
  LossFn dcl_fn = [&](const Tensor& x, const Tensor& y) { return dcl(x, y); };
  LossFn dclw_fn = [&](const Tensor& x, const Tensor& y) { return dclw(x, y); };
  for (DType t : {DType::f32, DType::f64, DType::bf16}) {
    compare("dcl", dcl_fn, 200, 40, t);    // 400 columns: more than a block
    compare("dclw", dclw_fn, 300, 24, t);  // 300 weights: more than a block
    compare("dclw", dclw_fn, 7, 5, t);
  }
  // Batch 1: -inf on both devices, finite gradients.
  Tensor a = Tensor::normal({1, 6}, 3), b = Tensor::normal({1, 6}, 4);
  Tensor ac = a.clone().set_requires_grad(), ag = a.to(Device::cuda(0)).set_requires_grad();
  Tensor lc = dclw(ac, b), lg = dclw(ag, b.to(Device::cuda(0)));
  CHECK(lc.item() == -INFINITY);
  CHECK(lg.item() == -INFINITY);
  lc.backward();
  lg.backward();
  CHECK(testing::scaled_error(ag.grad(), ac.grad()) <= 1e-5);
}
