// The fused CUDA view kernel against the CPU reference pipeline on whole batches: both sample the
// same parameters from (seed, epoch, index, view), so the views must agree value for value (the
// kernel is built without FMA contraction; only the contrast mean's summation order differs).
// Outputs are poisoned with NaN first. Skips (saying so) where no CUDA device is present.
#include "support/testing.h"

#include "augment/transform.h"

using namespace lumen;
using testing::check_close;

namespace {
const Device kGpu = Device::cuda(0);

Tensor random_batch(int64_t b, int h, int w, uint64_t seed) {
  return Tensor::uniform({b, h, w, 3}, seed, 0, 256, DType::f32).to(DType::u8);
}

// Every branch of the pipeline switched on often: rotation, both flips, jitter with contrast,
// grayscale, blur, solarize.
TransformConfig busy_config(int size) {
  ViewConfig view;
  view.input_size = size;
  view.cj_prob = 0.9f;
  view.rr_prob = 0.5f;
  view.vf_prob = 0.5f;
  view.random_gray_scale = 0.3f;
  view.gaussian_blur = 0.7f;
  view.solarization_prob = 0.4f;
  ViewConfig second = view;
  second.input_size = size;
  second.sigmas = {0.5f, 3.0f};
  return {{view, second}};
}

void compare(const char* name, const TransformConfig& config, int64_t b, int src_h, int src_w,
             DType dtype, uint64_t seed) {
  CAPTURE(name);
  CAPTURE(dtype_name(dtype));
  Tensor batch = random_batch(b, src_h, src_w, seed);
  std::vector<double> index_values;
  for (int64_t i = 0; i < b; ++i) index_values.push_back(double(1000 + 37 * i));
  Tensor indices = Tensor::from_vector(index_values, {b}, DType::i64);
  std::vector<Tensor> cpu = make_views(batch, indices, seed, 4, config, DType::f32);
  std::vector<Tensor> gpu;
  for (const Tensor& t : cpu) gpu.push_back(testing::poisoned(t.shape(), dtype, kGpu));
  make_views_into(batch.to(kGpu), indices.to(kGpu), seed, 4, config, gpu);
  // f32: same arithmetic, different summation order of the contrast mean; a pixel right at the
  // solarize threshold could still flip, which the tolerance would report.
  const double tol = dtype == DType::f32 ? 1e-4 : testing::tolerance(dtype) * 2;
  for (size_t v = 0; v < cpu.size(); ++v) {
    check_close(gpu[v], cpu[v], tol, std::string(name) + " view " + std::to_string(v));
  }
}
}  // namespace

TEST_CASE("GPU: fused views match the CPU pipeline for SimCLR, BYOL and a busy config") {
  if (!testing::cuda_or_skip()) return;
  for (DType t : {DType::f32, DType::bf16, DType::f16}) {
    compare("simclr 32", simclr_transform(32), 33, 32, 32, t, 1);
    compare("byol 24 from 40x36", byol_transform(24), 9, 40, 36, t, 2);
    compare("busy 48 from 64x64", busy_config(48), 12, 64, 64, t, 3);
    compare("moco v2 96 from 120x100", moco_v2_transform(96), 3, 120, 100, t, 4);
  }
}

// VICReg's order (solarize before the blur), with the blur and solarization drawn often, beside
// the same views in the other order: both devices take the view's order.
TEST_CASE("GPU: VICReg's views (solarize before the blur) match the CPU pipeline") {
  if (!testing::cuda_or_skip()) return;
  TransformConfig vicreg = vicreg_transform(32);
  for (ViewConfig& v : vicreg.views) {
    v.gaussian_blur = 0.8f;
    v.solarization_prob = 0.6f;
  }
  TransformConfig after = vicreg;
  for (ViewConfig& v : after.views) v.solarize_before_blur = false;
  for (DType t : {DType::f32, DType::bf16, DType::f16}) {
    compare("vicreg 32 from 40x36", vicreg, 12, 40, 36, t, 9);
    compare("vicreg 32 from 40x36, solarize after the blur", after, 12, 40, 36, t, 9);
  }
}

// Multi-crop: 2 global + 6 local views of different sizes (DINO: bicubic, per-view blur and
// solarize; SwAV: bilinear), a busy multi-crop config, and 30 views (two launches of the kernel).
TEST_CASE("GPU: multi-crop views (2 global + 6 local, 30 views) match the CPU pipeline") {
  if (!testing::cuda_or_skip()) return;
  DINOTransformArgs d;
  d.global_crop_size = 32;
  d.local_crop_size = 16;
  SwaVTransformArgs s;
  s.crop_sizes = {32, 16};
  DINOTransformArgs busy = d;
  busy.view.rr_prob = 0.5f;
  busy.view.vf_prob = 0.5f;
  busy.view.cj_prob = 0.9f;
  busy.gaussian_blur = {0.7f, 0.7f, 0.7f};
  busy.solarization_prob = 0.6f;
  SwaVTransformArgs many;
  many.crop_sizes = {24, 8};
  many.crop_counts = {2, 28};
  for (DType t : {DType::f32, DType::bf16}) {
    compare("dino 2 x 32 + 6 x 16 from 40x36", dino_transform(d), 9, 40, 36, t, 5);
    compare("swav 2 x 32 + 6 x 16 from 48x48", swav_transform(s), 7, 48, 48, t, 6);
    compare("busy dino from 64x50", dino_transform(busy), 5, 64, 50, t, 7);
    compare("swav 30 views", swav_transform(many), 3, 30, 30, t, 8);
  }
}

TEST_CASE("GPU: make_views groups views of one size in one allocation") {
  if (!testing::cuda_or_skip()) return;
  DINOTransformArgs d;
  d.global_crop_size = 16;
  d.local_crop_size = 8;
  Tensor batch = random_batch(4, 20, 20, 10).to(kGpu);
  Tensor indices = Tensor::from_vector(std::vector<double>{0, 1, 2, 3}, {4}, DType::i64);
  const std::vector<Tensor> views = make_views(batch, indices, 1, 0, dino_transform(d));
  const std::vector<Tensor> groups = group_views(views);
  REQUIRE(groups.size() == 2);
  CHECK(groups[0].shape() == Shape{8, 16, 16, 3});
  CHECK(groups[1].shape() == Shape{24, 8, 8, 3});
  CHECK(groups[1].raw_data() == views[2].raw_data());
  check_close(groups[1].rows(20, 4), views[7], 0.0, "last local view");
}

TEST_CASE("GPU: default dtype is bf16; indices on the CPU are accepted; batch 0 is fine") {
  if (!testing::cuda_or_skip()) return;
  Tensor batch = random_batch(4, 20, 20, 9).to(kGpu);
  Tensor indices = Tensor::from_vector(std::vector<double>{0, 1, 2, 3}, {4}, DType::i64);
  std::vector<Tensor> views = make_views(batch, indices, 1, 0, simclr_transform(16));
  REQUIRE(views.size() == 2);
  CHECK(views[0].dtype() == DType::bf16);
  CHECK(views[0].is_cuda());
  CHECK(views[0].shape() == Shape{4, 16, 16, 3});
  Tensor empty = Tensor::empty({0, 20, 20, 3}, DType::u8, kGpu);
  Tensor no_indices = Tensor::empty({0}, DType::i64, kGpu);
  CHECK(make_views(empty, no_indices, 1, 0, simclr_transform(16))[0].numel() == 0);
}
