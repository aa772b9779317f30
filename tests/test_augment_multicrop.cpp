// The multi-crop presets against lightly's own DINOTransform and SwaVTransform (fixtures made by
// tools/fixtures/augment_multicrop.py): every view's settings as lightly's transform objects hold
// them (default and non-default arguments), and whole views where lightly's transforms are
// deterministic given their parameters (probabilities 0 or 1, the whole image as the crop).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/testing.h"

#include "augment/transform.h"
#include "engine/io/safetensors.h"
#include "support/augment_settings.h"

using namespace lumen;
using testing::check_close;
using testing::check_settings;

namespace {

SafetensorsFile fixture() { return load_safetensors("fixtures/augment_multicrop.safetensors"); }

DINOTransformArgs dino_custom() {
  // lightly: DINOTransform(global_crop_size=64, global_crop_scale=(0.3, 0.9), local_crop_size=32,
  // local_crop_scale=(0.1, 0.3), n_local_views=3, hf_prob=0.3, vf_prob=0.2, rr_prob=0.1,
  // cj_prob=0.7, cj_strength=0.6, cj_bright=0.5, cj_contrast=0.7, cj_sat=0.3, cj_hue=0.1,
  // random_gray_scale=0.3, gaussian_blur=(0.9, 0.2, 0.4), sigmas=(0.2, 1.5),
  // solarization_prob=0.3)
  DINOTransformArgs a;
  a.global_crop_size = 64;
  a.global_crop_scale = {0.3f, 0.9f};
  a.local_crop_size = 32;
  a.local_crop_scale = {0.1f, 0.3f};
  a.n_local_views = 3;
  a.gaussian_blur = {0.9f, 0.2f, 0.4f};
  a.solarization_prob = 0.3f;
  ViewConfig& v = a.view;
  v.hf_prob = 0.3f;
  v.vf_prob = 0.2f;
  v.rr_prob = 0.1f;
  v.cj_prob = 0.7f;
  v.cj_strength = 0.6f;
  v.cj_bright = 0.5f;
  v.cj_contrast = 0.7f;
  v.cj_sat = 0.3f;
  v.cj_hue = 0.1f;
  v.random_gray_scale = 0.3f;
  v.sigmas = {0.2f, 1.5f};
  return a;
}

SwaVTransformArgs swav_custom() {
  // lightly: SwaVTransform(crop_sizes=(64, 32, 16), crop_counts=(1, 2, 3),
  // crop_min_scales=(0.3, 0.1, 0.05), crop_max_scales=(1.0, 0.3, 0.1), hf_prob=0.4, vf_prob=0.1,
  // rr_prob=0.2, cj_prob=0.6, cj_strength=0.5, cj_bright=0.4, cj_contrast=0.6, cj_sat=0.2,
  // cj_hue=0.3, random_gray_scale=0.1, gaussian_blur=0.3, sigmas=(0.3, 1.0))
  SwaVTransformArgs a;
  a.crop_sizes = {64, 32, 16};
  a.crop_counts = {1, 2, 3};
  a.crop_min_scales = {0.3f, 0.1f, 0.05f};
  a.crop_max_scales = {1.0f, 0.3f, 0.1f};
  ViewConfig& v = a.view;
  v.hf_prob = 0.4f;
  v.vf_prob = 0.1f;
  v.rr_prob = 0.2f;
  v.cj_prob = 0.6f;
  v.cj_strength = 0.5f;
  v.cj_bright = 0.4f;
  v.cj_contrast = 0.6f;
  v.cj_sat = 0.2f;
  v.cj_hue = 0.3f;
  v.random_gray_scale = 0.1f;
  v.gaussian_blur = 0.3f;
  v.sigmas = {0.3f, 1.0f};
  return a;
}

// Lumen's views of the fixture's images against lightly's: (views, batch, H, W, 3).
void check_views(const TransformConfig& t, const SafetensorsFile& f, const std::string& key) {
  CAPTURE(key);
  const Tensor images = f.tensors.at("images");
  const Tensor expected = f.tensors.at(key);
  const int64_t b = images.size(0);
  REQUIRE(int64_t(t.views.size()) == expected.size(0));
  Tensor idx = Tensor::from_vector(std::vector<double>{3, 8}, {b}, DType::i64);
  const std::vector<Tensor> views = make_views(images, idx, 5, 2, t);
  const int64_t per_view = expected.numel() / expected.size(0);
  const Tensor flat = expected.reshape({expected.size(0), per_view});
  for (size_t v = 0; v < views.size(); ++v) {
    // Only the float rounding of solarize ((255 - v) / 255 against 1 - v / 255) and of the
    // normalisation may differ.
    check_close(views[v].reshape({1, per_view}), flat.rows(int64_t(v), 1), 1e-6,
                key + " view " + std::to_string(v + 1));
  }
}

}  // namespace

TEST_CASE("DINOTransform: every view's settings are lightly's, default and custom arguments") {
  const SafetensorsFile f = fixture();
  check_settings(dino_transform(), f, "dino_default");
  check_settings(dino_transform(dino_custom()), f, "dino_custom");
}

TEST_CASE("SwaVTransform: every view's settings are lightly's, default and custom arguments") {
  const SafetensorsFile f = fixture();
  check_settings(swav_transform(), f, "swav_default");
  check_settings(swav_transform(swav_custom()), f, "swav_custom");
}

TEST_CASE("DINOTransform and SwaVTransform: lightly's own views where they are deterministic") {
  const SafetensorsFile f = fixture();
  const int size = int(f.tensors.at("images").size(1));
  // hf 1, vf 0, rr 1, no jitter, grayscale or blur; solarize 1 (global view 2 only); the whole
  // image as every crop (scale (1, 1)), two local views.
  DINOTransformArgs d;
  d.global_crop_size = d.local_crop_size = size;
  d.global_crop_scale = d.local_crop_scale = {1.0f, 1.0f};
  d.n_local_views = 2;
  d.gaussian_blur = {0.0f, 0.0f, 0.0f};
  d.solarization_prob = 1.0f;
  d.view.hf_prob = 1.0f;
  d.view.vf_prob = 0.0f;
  d.view.rr_prob = 1.0f;
  d.view.cj_prob = 0.0f;
  d.view.random_gray_scale = 0.0f;
  check_views(dino_transform(d), f, "dino_fixed_views");
  // hf 1, vf 1, rr 1, no jitter, grayscale or blur; two categories of 2 and 3 crops.
  SwaVTransformArgs s;
  s.crop_sizes = {size, size};
  s.crop_counts = {2, 3};
  s.crop_min_scales = {1.0f, 1.0f};
  s.crop_max_scales = {1.0f, 1.0f};
  s.view.hf_prob = s.view.vf_prob = s.view.rr_prob = 1.0f;
  s.view.cj_prob = 0.0f;
  s.view.random_gray_scale = 0.0f;
  s.view.gaussian_blur = 0.0f;
  check_views(swav_transform(s), f, "swav_fixed_views");
}

TEST_CASE("SwaVTransform: lists of different lengths are refused with lightly's message") {
  SwaVTransformArgs s;
  s.crop_counts = {2, 6, 1};
  CHECK_THROWS_WITH_AS(swav_transform(s),
                       doctest::Contains("Length of crop_sizes and crop_counts must be equal but "
                                         "are 2 and 3."),
                       Error);
  s = SwaVTransformArgs{};
  s.crop_max_scales = {1.0f};
  CHECK_THROWS_WITH_AS(swav_transform(s), doctest::Contains("crop_max_scales"), Error);
  s = SwaVTransformArgs{};
  s.crop_counts = {0, 0};
  CHECK_THROWS_WITH_AS(swav_transform(s), doctest::Contains("no view"), Error);
  DINOTransformArgs d;
  d.n_local_views = -1;
  CHECK_THROWS_WITH_AS(dino_transform(d), doctest::Contains("n_local_views"), Error);
  d = DINOTransformArgs{};
  d.local_crop_scale = {0.5f, 0.4f};
  CHECK_THROWS_WITH_AS(view_spec(dino_transform(d).views.back()),
                       doctest::Contains("min_scale <= max_scale"), Error);
}

TEST_CASE("make_views: 2 global + 6 local views, each from its own sampled parameters") {
  DINOTransformArgs d;
  d.global_crop_size = 24;
  d.local_crop_size = 10;
  const TransformConfig t = dino_transform(d);
  Tensor batch = Tensor::uniform({3, 30, 28, 3}, 4, 0, 255, DType::f32).to(DType::u8);
  const std::vector<double> index_values{7, 1000, 42};
  Tensor idx = Tensor::from_vector(index_values, {3}, DType::i64);
  const std::vector<Tensor> views = make_views(batch, idx, 11, 3, t);
  REQUIRE(views.size() == 8);
  std::vector<kernels::ViewParams> params;
  for (int v = 0; v < 8; ++v) {
    CHECK(views[v].shape() == Shape{3, v < 2 ? 24 : 10, v < 2 ? 24 : 10, 3});
    for (int b = 0; b < 3; ++b) {
      params.push_back(sample_view(t.views[v], 30, 28, 11, 3, int64_t(index_values[b]), v));
    }
  }
  const std::vector<Tensor> applied = apply_views_cpu(batch, params, t);
  for (int v = 0; v < 8; ++v) {
    check_close(views[v], applied[v], 0.0, "view " + std::to_string(v + 1));
  }
  CHECK(testing::max_relative_error(views[2], views[3]) > 0.01);  // local views differ
}

TEST_CASE("group_views: views of one size as one batch, view-major, without a copy") {
  SwaVTransformArgs s;
  s.crop_sizes = {12, 6, 12};
  s.crop_counts = {2, 3, 1};
  s.crop_min_scales = {0.3f, 0.1f, 0.3f};
  s.crop_max_scales = {1.0f, 0.3f, 1.0f};
  const TransformConfig t = swav_transform(s);
  const std::vector<ViewGroup> layout = view_groups(t);
  REQUIRE(layout.size() == 3);
  CHECK((layout[0].first == 0 && layout[0].count == 2 && layout[0].size == 12));
  CHECK((layout[1].first == 2 && layout[1].count == 3 && layout[1].size == 6));
  CHECK((layout[2].first == 5 && layout[2].count == 1 && layout[2].size == 12));

  Tensor batch = Tensor::uniform({4, 20, 20, 3}, 6, 0, 255, DType::f32).to(DType::u8);
  Tensor idx = Tensor::from_vector(std::vector<double>{0, 1, 2, 3}, {4}, DType::i64);
  const std::vector<Tensor> views = make_views(batch, idx, 2, 0, t);
  const std::vector<Tensor> groups = group_views(views);
  REQUIRE(groups.size() == 3);
  CHECK(groups[0].shape() == Shape{8, 12, 12, 3});
  CHECK(groups[1].shape() == Shape{12, 6, 6, 3});
  CHECK(groups[2].shape() == Shape{4, 12, 12, 3});
  // No copy: the groups share the views' memory.
  CHECK(groups[0].storage() == views[0].storage());
  CHECK(groups[1].storage() == views[3].storage());
  CHECK(groups[0].raw_data() == views[0].raw_data());
  for (int k = 0; k < 3; ++k) {
    check_close(groups[1].rows(4 * k, 4), views[2 + k], 0.0, "local view " + std::to_string(k));
  }
  // Tensors from elsewhere (a CUDA graph's input copies) are copied into one block per group.
  std::vector<Tensor> copies;
  for (const Tensor& v : views) copies.push_back(v.clone());
  const std::vector<Tensor> copied = group_views(copies);
  REQUIRE(copied.size() == 3);
  CHECK(copied[1].storage() != copies[2].storage());
  for (int g = 0; g < 3; ++g) check_close(copied[g], groups[g], 0.0, "copied group");
  Tensor grad = views[0].clone();
  grad.set_requires_grad();
  CHECK_THROWS_WITH_AS(group_views({grad, views[1]}), doctest::Contains("requires grad"), Error);
}
