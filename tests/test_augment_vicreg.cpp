// The vicreg preset against lightly's own VICRegTransform (fixtures made by
// tools/fixtures/augment_vicreg.py): both views' settings as lightly's transform objects hold them
// (default and non-default arguments), solarize placed before the blur as in lightly's
// VICRegViewTransform, and whole views with fixed parameters made op by op in that order.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/testing.h"

#include "augment/transform.h"
#include "engine/io/safetensors.h"
#include "support/augment_settings.h"

using namespace lumen;
using kernels::ViewParams;
using testing::check_close;

namespace {

SafetensorsFile fixture() { return load_safetensors("fixtures/augment_vicreg.safetensors"); }

// lightly: VICRegTransform(input_size=64, cj_prob=0.7, cj_strength=0.6, cj_bright=0.5,
// cj_contrast=0.7, cj_sat=0.3, cj_hue=0.1, min_scale=0.2, random_gray_scale=0.3,
// solarize_prob=0.3, gaussian_blur=0.4, sigmas=(0.2, 1.5), vf_prob=0.2, hf_prob=0.3, rr_prob=0.1)
TransformConfig vicreg_custom() {
  TransformConfig t = vicreg_transform(64);
  for (ViewConfig& v : t.views) {
    v.cj_prob = 0.7f;
    v.cj_strength = 0.6f;
    v.cj_bright = 0.5f;
    v.cj_contrast = 0.7f;
    v.cj_sat = 0.3f;
    v.cj_hue = 0.1f;
    v.min_scale = 0.2f;
    v.random_gray_scale = 0.3f;
    v.solarization_prob = 0.3f;
    v.gaussian_blur = 0.4f;
    v.sigmas = {0.2f, 1.5f};
    v.vf_prob = 0.2f;
    v.hf_prob = 0.3f;
    v.rr_prob = 0.1f;
  }
  return t;
}

// The fixture's fixed parameters (the layout of tools/fixtures/augment.py's pipeline fixture):
// view v of sample b at v * 2 + b.
std::vector<ViewParams> fixture_params(const SafetensorsFile& f) {
  const std::vector<double> pi = f.tensors.at("params_int").to_doubles();
  const std::vector<double> pf = f.tensors.at("params_float").to_doubles();
  const int64_t ni = f.tensors.at("params_int").size(1), nf = f.tensors.at("params_float").size(1);
  std::vector<ViewParams> params;
  for (int64_t k = 0; k < f.tensors.at("params_int").size(0); ++k) {
    const double* q = &pi[k * ni];
    const double* r = &pf[k * nf];
    ViewParams p;
    p.crop_top = int(q[0]);
    p.crop_left = int(q[1]);
    p.crop_h = int(q[2]);
    p.crop_w = int(q[3]);
    p.rotate90 = int(q[4]);
    p.hflip = int(q[5]);
    p.vflip = int(q[6]);
    p.jitter_ops = int(q[7]);
    for (int j = 0; j < 4; ++j) p.order[j] = int(q[8 + j]);
    p.grayscale = int(q[12]);
    p.blur_radius = int(q[13]);
    p.solarize = int(q[14]);
    p.brightness = float(r[0]);
    p.contrast = float(r[1]);
    p.saturation = float(r[2]);
    p.hue = float(r[3]);
    p.blur_sigma = float(r[4]);
    params.push_back(p);
  }
  return params;
}

}  // namespace

TEST_CASE("VICRegTransform: both views' settings are lightly's, default and custom arguments") {
  const SafetensorsFile f = fixture();
  testing::check_settings(vicreg_transform(), f, "vicreg_default");
  testing::check_settings(vicreg_custom(), f, "vicreg_custom");
  const std::vector<double> before = f.tensors.at("vicreg_solarize_before_blur").to_doubles();
  REQUIRE(before.size() == 2);
  for (size_t v = 0; v < 2; ++v) {
    CHECK(before[v] == 1.0);
    CHECK(view_spec(vicreg_transform().views[v]).solarize_before_blur == 1);
  }
  // Every other preset solarizes after the blur, as lightly's other view transforms.
  for (const ViewConfig& v : byol_transform().views) CHECK(!v.solarize_before_blur);
}

TEST_CASE("VICRegTransform: views in lightly's order, solarize before the blur") {
  const SafetensorsFile f = fixture();
  const Tensor batch = f.tensors.at("batch");        // (2, 40, 36, 3) u8
  const Tensor expected = f.tensors.at("expected");  // (4, 24, 24, 3): view v of sample b at 2v+b
  const TransformConfig config = vicreg_transform(int(expected.size(1)));
  const std::vector<ViewParams> params = fixture_params(f);
  const std::vector<Tensor> views = apply_views_cpu(batch, params, config);
  REQUIRE(views.size() == 2);
  for (int v = 0; v < 2; ++v) {
    // The float order of torchvision's 2-D blur against two 1-D passes: ~1e-7 on [0, 1], scaled
    // by 1 / std for the normalised values.
    check_close(views[v], expected.rows(2 * v, 2), 1e-5 / 0.224, "view " + std::to_string(v));
  }
  // The other order gives other views wherever the blur runs (view 0 of both samples, view 1 of
  // sample 0); the unblurred view is the same.
  TransformConfig after = config;
  for (ViewConfig& v : after.views) v.solarize_before_blur = false;
  const std::vector<Tensor> other = apply_views_cpu(batch, params, after);
  CHECK(testing::max_relative_error(other[0], expected.rows(0, 2)) > 0.05);
  CHECK(testing::max_relative_error(other[1].rows(0, 1), expected.rows(2, 1)) > 0.05);
  check_close(other[1].rows(1, 1), expected.rows(3, 1), 1e-5 / 0.224, "unblurred view");
}
