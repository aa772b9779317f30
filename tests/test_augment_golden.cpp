// Each augmentation op, with fixed parameters, against torchvision's functional op on float
// tensors (fixtures made by tools/fixtures/augment.py), run through Lumen's CPU pipeline: a single
// op is a view whose other steps are the identity (the whole image as the crop, resized to its own
// size). Then whole views with every op at once against torchvision applied op by op.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/testing.h"

#include "augment/transform.h"
#include "engine/io/safetensors.h"

using namespace lumen;
using kernels::ViewParams;
using testing::check_close;

namespace {
// torchvision and Lumen run the same float arithmetic in a different order (e.g. the contrast mean,
// the 2-D blur against two 1-D passes): errors stay around 1e-7 on values in [0, 1].
constexpr double kTol = 1e-5;

SafetensorsFile fixture(const char* name) {
  return load_safetensors(std::string("fixtures/") + name + ".safetensors");
}

// A one-image batch (1, H, W, 3) from an (H, W, 3) u8 fixture tensor.
Tensor as_batch(const Tensor& image) { return image.reshape({1, image.size(0), image.size(1), 3}); }

// One view config of `size` without normalisation (values stay in [0, 1]).
TransformConfig plain_config(int size, bool normalize = false) {
  ViewConfig view;
  view.input_size = size;
  if (!normalize) view.normalize.reset();
  return {{view}};
}

// Parameters that leave an (size, size) image as it is: the whole image, resized to its own size.
ViewParams identity_params(int size) {
  ViewParams p;
  p.crop_top = p.crop_left = 0;
  p.crop_h = p.crop_w = size;
  return p;
}

// Applies one parameter set to a one-image batch; returns the (H, W, 3) f32 result.
Tensor apply_one(const Tensor& image, const ViewParams& p, const TransformConfig& config) {
  std::vector<Tensor> out = apply_views_cpu(as_batch(image), {p}, config);
  return out[0].reshape({out[0].size(1), out[0].size(2), 3});
}
}  // namespace

TEST_CASE("golden: resized_crop (bilinear, antialias off) from the u8 source") {
  SafetensorsFile f = fixture("augment_resized_crop");
  const Tensor src = f.tensors.at("src");
  const std::vector<double> cases = f.tensors.at("params").to_doubles();
  for (size_t k = 0; k < cases.size() / 5; ++k) {
    CAPTURE(k);
    ViewParams p;
    p.crop_top = int(cases[k * 5 + 0]);
    p.crop_left = int(cases[k * 5 + 1]);
    p.crop_h = int(cases[k * 5 + 2]);
    p.crop_w = int(cases[k * 5 + 3]);
    const int out = int(cases[k * 5 + 4]);
    check_close(apply_one(src, p, plain_config(out)), f.tensors.at("out_" + std::to_string(k)),
                kTol, "resized_crop case " + std::to_string(k));
  }
}

TEST_CASE("golden: resized_crop (bicubic, antialias off, clamped into [0, 1]) for DINO") {
  SafetensorsFile f = fixture("augment_bicubic_crop");
  const Tensor src = f.tensors.at("src");
  const std::vector<double> cases = f.tensors.at("params").to_doubles();
  for (size_t k = 0; k < cases.size() / 5; ++k) {
    CAPTURE(k);
    ViewParams p;
    p.crop_top = int(cases[k * 5 + 0]);
    p.crop_left = int(cases[k * 5 + 1]);
    p.crop_h = int(cases[k * 5 + 2]);
    p.crop_w = int(cases[k * 5 + 3]);
    TransformConfig config = plain_config(int(cases[k * 5 + 4]));
    config.views[0].interpolation = Interpolation::bicubic;
    check_close(apply_one(src, p, config), f.tensors.at("out_" + std::to_string(k)), kTol,
                "bicubic resized_crop case " + std::to_string(k));
  }
}

TEST_CASE("golden: hflip, vflip, rotate90 in lightly 1.5.26's order") {
  SafetensorsFile f = fixture("augment_geometry");
  const Tensor src = f.tensors.at("src");
  const int size = int(src.size(0));
  for (int rot = 0; rot < 2; ++rot) {
    for (int hf = 0; hf < 2; ++hf) {
      for (int vf = 0; vf < 2; ++vf) {
        ViewParams p = identity_params(size);
        p.rotate90 = rot;
        p.hflip = hf;
        p.vflip = vf;
        const std::string key =
            "out_r" + std::to_string(rot) + "_h" + std::to_string(hf) + "_v" + std::to_string(vf);
        // pure index remaps: exact
        check_close(apply_one(src, p, plain_config(size)), f.tensors.at(key), 0.0, key);
      }
    }
  }
}

TEST_CASE("golden: adjust_brightness / contrast / saturation / hue") {
  SafetensorsFile f = fixture("augment_color");
  const Tensor src = f.tensors.at("src");
  const int size = int(src.size(0));
  const char* names[4] = {"brightness", "contrast", "saturation", "hue"};
  for (int op = 0; op < 4; ++op) {
    const std::vector<double> factors =
        f.tensors.at(std::string(names[op]) + "_factors").to_doubles();
    for (size_t k = 0; k < factors.size(); ++k) {
      ViewParams p = identity_params(size);
      p.jitter_ops = 1;
      p.order[0] = op;
      const float factor = float(factors[k]);
      if (op == kernels::kBrightness) p.brightness = factor;
      if (op == kernels::kContrast) p.contrast = factor;
      if (op == kernels::kSaturation) p.saturation = factor;
      if (op == kernels::kHue) p.hue = factor;
      const std::string key = std::string(names[op]) + "_" + std::to_string(k);
      check_close(apply_one(src, p, plain_config(size)), f.tensors.at(key), kTol,
                  key + " (factor " + std::to_string(factor) + ")");
    }
  }
}

TEST_CASE("golden: rgb_to_grayscale, solarize, normalize") {
  SafetensorsFile f = fixture("augment_color");
  const Tensor src = f.tensors.at("src");
  const int size = int(src.size(0));
  ViewParams gray = identity_params(size);
  gray.grayscale = 1;
  check_close(apply_one(src, gray, plain_config(size)), f.tensors.at("grayscale"), kTol,
              "grayscale");
  ViewParams sol = identity_params(size);
  sol.solarize = 1;
  check_close(apply_one(src, sol, plain_config(size)), f.tensors.at("solarize"), kTol, "solarize");
  check_close(apply_one(src, identity_params(size), plain_config(size, true)),
              f.tensors.at("normalize"), kTol, "normalize");
}

TEST_CASE("golden: gaussian_blur with kernel size 2 ceil(3 sigma) + 1 and reflected borders") {
  SafetensorsFile f = fixture("augment_blur");
  const Tensor src = f.tensors.at("src");
  const int size = int(src.size(0));
  const std::vector<double> sigmas = f.tensors.at("sigmas").to_doubles();
  for (size_t k = 0; k < sigmas.size(); ++k) {
    ViewParams p = identity_params(size);
    p.blur_sigma = float(sigmas[k]);
    p.blur_radius = kernels::blur_radius_for_sigma(p.blur_sigma);
    check_close(apply_one(src, p, plain_config(size)), f.tensors.at("out_" + std::to_string(k)),
                kTol, "gaussian_blur sigma " + std::to_string(sigmas[k]));
  }
}

TEST_CASE("golden: whole views (every op, fixed parameters) match torchvision op by op") {
  SafetensorsFile f = fixture("augment_pipeline");
  const Tensor batch = f.tensors.at("batch");  // (2, 40, 36, 3) u8
  const std::vector<double> pi = f.tensors.at("params_int").to_doubles();
  const std::vector<double> pf = f.tensors.at("params_float").to_doubles();
  const Tensor expected = f.tensors.at("expected");  // (4, 24, 24, 3): view v of sample b at 2v+b
  const int out = int(expected.size(1));
  const int ni = int(f.tensors.at("params_int").size(1)), nf = 5;
  std::vector<ViewParams> params;
  for (int k = 0; k < 4; ++k) {
    const double* q = &pi[k * ni];
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
    p.brightness = float(pf[k * nf + 0]);
    p.contrast = float(pf[k * nf + 1]);
    p.saturation = float(pf[k * nf + 2]);
    p.hue = float(pf[k * nf + 3]);
    p.blur_sigma = float(pf[k * nf + 4]);
    params.push_back(p);
  }
  ViewConfig view;
  view.input_size = out;
  const TransformConfig config{{view, view}};
  std::vector<Tensor> views = apply_views_cpu(batch, params, config);
  REQUIRE(views.size() == 2);
  for (int v = 0; v < 2; ++v) {
    // Normalised values reach ~2.6: the [0, 1] tolerance scaled by 1 / std.
    check_close(views[v], expected.rows(2 * v, 2), kTol / 0.224, "view " + std::to_string(v));
  }
  // The same views in bf16 are the f32 views rounded.
  std::vector<Tensor> bf = apply_views_cpu(batch, params, config, DType::bf16);
  check_close(bf[1], views[1], testing::tolerance(DType::bf16), "bf16 view 1");
}

TEST_CASE("pipeline: bad inputs get clear errors") {
  const TransformConfig config = simclr_transform(8);
  Tensor idx = Tensor::from_vector(std::vector<double>{0, 1}, {2}, DType::i64);
  Tensor f32 = Tensor::zeros({2, 8, 8, 3}, DType::f32);
  CHECK_THROWS_WITH_AS(make_views(f32, idx, 1, 0, config), doctest::Contains("u8"), Error);
  Tensor gray = Tensor::zeros({2, 8, 8, 1}, DType::u8);
  CHECK_THROWS_WITH_AS(make_views(gray, idx, 1, 0, config), doctest::Contains("RGB"), Error);
  Tensor ok = Tensor::zeros({2, 8, 8, 3}, DType::u8);
  Tensor short_idx = Tensor::from_vector(std::vector<double>{0}, {1}, DType::i64);
  CHECK_THROWS_WITH_AS(make_views(ok, short_idx, 1, 0, config), doctest::Contains("indices"),
                       Error);
  CHECK_THROWS_WITH_AS(make_views(ok, idx, 1, 0, config, DType::i32),
                       doctest::Contains("output dtype"), Error);
  ViewParams outside = identity_params(8);
  outside.crop_h = 9;
  CHECK_THROWS_WITH_AS(apply_views_cpu(ok, {outside, outside, outside, outside}, config),
                       doctest::Contains("crop box"), Error);
}

TEST_CASE("pipeline: make_views is reproducible, keyed by index, and in range") {
  Tensor batch = Tensor::uniform({3, 20, 30, 3}, 5, 0, 255, DType::f32).to(DType::u8);
  Tensor idx = Tensor::from_vector(std::vector<double>{10, 11, 10}, {3}, DType::i64);
  const TransformConfig config = simclr_transform(16);
  std::vector<Tensor> a = make_views(batch, idx, 9, 1, config);
  std::vector<Tensor> b = make_views(batch, idx, 9, 1, config);
  REQUIRE(a.size() == 2);
  CHECK(a[0].shape() == Shape{3, 16, 16, 3});
  CHECK(a[0].dtype() == DType::f32);
  check_close(a[0], b[0], 0.0, "same key, same view");
  check_close(a[1], b[1], 0.0, "same key, same view");
  CHECK(testing::max_relative_error(a[0], a[1]) > 0.01);  // two views differ
  std::vector<Tensor> c = make_views(batch, idx, 9, 2, config);
  CHECK(testing::max_relative_error(a[0], c[0]) > 0.01);  // a new epoch draws anew
  // Normalised values of [0, 1] pixels lie in [-mean / std, (1 - mean) / std].
  for (double v : a[0].to_doubles()) {
    REQUIRE(v >= -0.485 / 0.229 - 1e-5);
    REQUIRE(v <= (1 - 0.406) / 0.225 + 1e-5);
  }
}

TEST_CASE("pipeline: make_views applies exactly the parameters sample_view draws") {
  Tensor batch = Tensor::uniform({4, 30, 26, 3}, 8, 0, 255, DType::f32).to(DType::u8);
  const std::vector<double> index_values{5, 900, 17, 3};
  Tensor idx = Tensor::from_vector(index_values, {4}, DType::i64);
  TransformConfig config = byol_transform(20);  // asymmetric views: blur and solarize differ
  config.views[1].rr_prob = 0.5f;
  config.views[1].vf_prob = 0.5f;
  std::vector<Tensor> views = make_views(batch, idx, 77, 6, config);
  std::vector<ViewParams> params;
  for (int v = 0; v < 2; ++v) {
    for (int b = 0; b < 4; ++b) {
      params.push_back(sample_view(config.views[v], 30, 26, 77, 6, int64_t(index_values[b]), v));
    }
  }
  std::vector<Tensor> applied = apply_views_cpu(batch, params, config);
  for (int v = 0; v < 2; ++v) {
    check_close(views[v], applied[v], 0.0, "sampled vs applied, view " + std::to_string(v));
  }
}
