// Statistics of the view-parameter sampler against its configuration: crop scale and aspect ratio
// against an independent simulation of torchvision's RandomResizedCrop.get_params, every
// probability, the jitter factor ranges and op orders, blur sigmas, and the keying by
// (seed, epoch, index, view). Fixed seeds and large N: every bound is several standard deviations
// wide, so the tests are deterministic and not flaky, yet a wrong range or probability fails them.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/testing.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <tuple>

#include "augment/transform.h"

using namespace lumen;
using kernels::ViewParams;

namespace {
constexpr int kN = 100000;
constexpr double kSigmas = 5.0;  // bound width in standard deviations

std::vector<ViewParams> draw(const ViewConfig& config, int n, int src_h = 256, int src_w = 256,
                             int view = 0, uint64_t seed = 7, uint64_t epoch = 3) {
  const kernels::AugmentViewSpec spec = view_spec(config);
  std::vector<ViewParams> out(n);
  for (int i = 0; i < n; ++i) {
    out[i] = kernels::sample_view_params(spec, src_h, src_w, seed, epoch, i, view);
  }
  return out;
}

// Checks that `count` successes out of n match probability p within kSigmas standard deviations
// (exactly, for p = 0 or 1).
void check_rate(int64_t count, int64_t n, double p, const char* what) {
  const double rate = double(count) / double(n);
  if (p == 0.0 || p == 1.0) {
    CHECK_MESSAGE(rate == p, what << ": rate " << rate << ", expected exactly " << p);
    return;
  }
  const double sd = std::sqrt(p * (1 - p) / double(n));
  CHECK_MESSAGE(std::fabs(rate - p) < kSigmas * sd,
                what << ": rate " << rate << ", expected " << p << " +- " << kSigmas * sd);
}

// torchvision's RandomResizedCrop.get_params, written from its documentation with an independent
// generator: returns (h, w).
std::pair<int, int> reference_crop(std::mt19937_64& gen, int height, int width, double smin,
                                   double smax = 1.0) {
  std::uniform_real_distribution<double> uni(0.0, 1.0);
  const double area = double(height) * width, lo = std::log(3.0 / 4.0), hi = std::log(4.0 / 3.0);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target = area * (smin + uni(gen) * (smax - smin));
    const double ratio = std::exp(lo + uni(gen) * (hi - lo));
    const int w = int(std::nearbyint(std::sqrt(target * ratio)));
    const int h = int(std::nearbyint(std::sqrt(target / ratio)));
    if (w > 0 && w <= width && h > 0 && h <= height) return {h, w};
  }
  return {height, width};  // square source: the fallback is the whole image
}

// Histogram of values over [lo, hi) in `bins` bins, as fractions.
std::vector<double> histogram(const std::vector<double>& values, double lo, double hi, int bins) {
  std::vector<double> h(bins, 0.0);
  for (double v : values) {
    int b = int((v - lo) / (hi - lo) * bins);
    b = std::clamp(b, 0, bins - 1);
    h[b] += 1.0 / double(values.size());
  }
  return h;
}

// Two histograms from n samples each agree bin by bin within kSigmas of the difference's sd.
void check_same_distribution(const std::vector<double>& a, const std::vector<double>& b, int n,
                             const char* what) {
  for (size_t i = 0; i < a.size(); ++i) {
    const double p = 0.5 * (a[i] + b[i]);
    const double sd = std::sqrt(2.0 * p * (1 - p) / n) + 1e-12;
    CHECK_MESSAGE(std::fabs(a[i] - b[i]) < kSigmas * sd,
                  what << " bin " << i << ": " << a[i] << " vs reference " << b[i]);
  }
}
}  // namespace

TEST_CASE("sampler: crop scale and log aspect ratio follow torchvision's RandomResizedCrop") {
  for (float min_scale : {0.08f, 0.2f}) {
    CAPTURE(min_scale);
    ViewConfig config;
    config.min_scale = min_scale;
    const int size = 512;
    std::vector<ViewParams> params = draw(config, kN, size, size);
    std::vector<double> scale, log_ratio, ref_scale, ref_log_ratio;
    std::mt19937_64 gen(12345);
    for (const ViewParams& p : params) {
      REQUIRE(p.crop_top >= 0);
      REQUIRE(p.crop_left >= 0);
      REQUIRE(p.crop_top + p.crop_h <= size);
      REQUIRE(p.crop_left + p.crop_w <= size);
      scale.push_back(double(p.crop_h) * p.crop_w / (double(size) * size));
      log_ratio.push_back(std::log(double(p.crop_w) / p.crop_h));
      auto [h, w] = reference_crop(gen, size, size, min_scale);
      ref_scale.push_back(double(h) * w / (double(size) * size));
      ref_log_ratio.push_back(std::log(double(w) / h));
    }
    // Every crop keeps its area fraction in [min_scale, 1] and its ratio in [3/4, 4/3] (up to the
    // rounding of h and w to whole pixels).
    CHECK(*std::min_element(scale.begin(), scale.end()) > min_scale - 0.01);
    CHECK(*std::max_element(scale.begin(), scale.end()) <= 1.0);
    CHECK(*std::min_element(log_ratio.begin(), log_ratio.end()) > std::log(3.0 / 4.0) - 0.01);
    CHECK(*std::max_element(log_ratio.begin(), log_ratio.end()) < std::log(4.0 / 3.0) + 0.01);
    check_same_distribution(histogram(scale, min_scale, 1.0, 20),
                            histogram(ref_scale, min_scale, 1.0, 20), kN, "crop scale");
    check_same_distribution(histogram(log_ratio, std::log(0.75), std::log(4.0 / 3.0), 20),
                            histogram(ref_log_ratio, std::log(0.75), std::log(4.0 / 3.0), 20), kN,
                            "log aspect ratio");
    // Crop positions are uniform: the crop's centre averages to the image centre.
    double centre = 0;
    for (const ViewParams& p : params) centre += p.crop_left + 0.5 * p.crop_w;
    CHECK(std::fabs(centre / kN - size / 2.0) < 1.0);
  }
}

TEST_CASE("sampler: multi-crop presets draw each view's crop from its own scale range") {
  // DINO: 2 global views (0.4, 1), 6 local views (0.05, 0.4); SwAV: 2 views (0.14, 1), 6 views
  // (0.05, 0.14). Each view against torchvision's RandomResizedCrop with that view's scale.
  const int n = kN / 4, size = 512;
  struct Expect {
    int size;
    double smin, smax, blur, solarize;
  };
  std::vector<Expect> dino = {{224, 0.4, 1.0, 1.0, 0.0}, {224, 0.4, 1.0, 0.1, 0.2}};
  std::vector<Expect> swav = {{224, 0.14, 1.0, 0.5, 0.0}, {224, 0.14, 1.0, 0.5, 0.0}};
  for (int i = 0; i < 6; ++i) {
    dino.push_back({96, 0.05, 0.4, 0.5, 0.0});
    swav.push_back({96, 0.05, 0.14, 0.5, 0.0});
  }
  std::mt19937_64 gen(2024);
  for (const auto& [name, t, expect] :
       {std::tuple{"DINO", dino_transform(), dino}, std::tuple{"SwAV", swav_transform(), swav}}) {
    CAPTURE(name);
    REQUIRE(t.views.size() == expect.size());
    for (size_t v = 0; v < t.views.size(); ++v) {
      CAPTURE(v);
      const Expect& e = expect[v];
      CHECK(view_spec(t.views[v]).out_h == e.size);
      std::vector<double> scale, ref_scale;
      int64_t blur = 0, solarize = 0;
      for (const ViewParams& p : draw(t.views[v], n, size, size, int(v))) {
        scale.push_back(double(p.crop_h) * p.crop_w / (double(size) * size));
        blur += p.blur_radius > 0;
        solarize += p.solarize;
        auto [h, w] = reference_crop(gen, size, size, e.smin, e.smax);
        ref_scale.push_back(double(h) * w / (double(size) * size));
      }
      // Whole-pixel rounding moves a crop's area fraction by at most ~2 / 512 of its side.
      CHECK(*std::min_element(scale.begin(), scale.end()) > e.smin - 0.01);
      CHECK(*std::max_element(scale.begin(), scale.end()) < e.smax + 0.01);
      check_same_distribution(histogram(scale, e.smin, e.smax, 16),
                              histogram(ref_scale, e.smin, e.smax, 16), n, "crop scale");
      check_rate(blur, n, e.blur, "blur");
      check_rate(solarize, n, e.solarize, "solarize");
    }
  }
  // Views of one preset draw independently: the two global views' crops differ.
  const TransformConfig t = dino_transform();
  const std::vector<ViewParams> a = draw(t.views[0], 1000, size, size, 0);
  const std::vector<ViewParams> b = draw(t.views[1], 1000, size, size, 1);
  int same = 0;
  for (int i = 0; i < 1000; ++i)
    same += a[i].crop_top == b[i].crop_top && a[i].crop_h == b[i].crop_h;
  CHECK(same < 20);
}

TEST_CASE("sampler: crops stay inside any source shape, falling back to a centred crop") {
  ViewConfig config;
  for (auto [h, w] : std::vector<std::pair<int, int>>{{1, 1}, {2, 200}, {300, 3}, {17, 23}}) {
    CAPTURE(h);
    CAPTURE(w);
    for (const ViewParams& p : draw(config, 2000, h, w)) {
      REQUIRE(p.crop_h >= 1);
      REQUIRE(p.crop_w >= 1);
      REQUIRE(p.crop_top >= 0);
      REQUIRE(p.crop_left >= 0);
      REQUIRE(p.crop_top + p.crop_h <= h);
      REQUIRE(p.crop_left + p.crop_w <= w);
    }
  }
  // A 2x200 strip: every attempt fails (ratio > 4/3 cannot fit), so the fallback is centred with
  // the ratio clamped to 4/3: h = 2, w = round(2 * 4/3) = 3, left = (200 - 3) / 2.
  const ViewParams p = draw(config, 1, 2, 200)[0];
  CHECK(p.crop_h == 2);
  CHECK(p.crop_w == 3);
  CHECK(p.crop_top == 0);
  CHECK(p.crop_left == 98);
}

TEST_CASE("sampler: every probability matches its configuration") {
  ViewConfig config;  // SimCLR defaults
  config.vf_prob = 0.3f;
  config.rr_prob = 0.25f;
  config.solarization_prob = 0.15f;
  std::vector<ViewParams> params = draw(config, kN);
  int64_t hflip = 0, vflip = 0, rot = 0, jitter = 0, gray = 0, blur = 0, sol = 0;
  for (const ViewParams& p : params) {
    hflip += p.hflip;
    vflip += p.vflip;
    rot += p.rotate90;
    jitter += p.jitter_ops > 0;
    gray += p.grayscale;
    blur += p.blur_radius > 0;
    sol += p.solarize;
  }
  check_rate(hflip, kN, 0.5, "hflip");
  check_rate(vflip, kN, 0.3, "vflip");
  check_rate(rot, kN, 0.25, "rotate90");
  check_rate(jitter, kN, 0.8, "colour jitter");
  check_rate(gray, kN, 0.2, "grayscale");
  check_rate(blur, kN, 0.5, "blur");
  check_rate(sol, kN, 0.15, "solarize");

  // BYOL: view 1 always blurs and never solarizes; view 2 blurs with 0.1, solarizes with 0.2.
  const TransformConfig byol = byol_transform(32);
  int64_t blur1 = 0, sol1 = 0, blur2 = 0, sol2 = 0;
  for (const ViewParams& p : draw(byol.views[0], kN, 64, 64, 0)) {
    blur1 += p.blur_radius > 0;
    sol1 += p.solarize;
  }
  for (const ViewParams& p : draw(byol.views[1], kN, 64, 64, 1)) {
    blur2 += p.blur_radius > 0;
    sol2 += p.solarize;
  }
  check_rate(blur1, kN, 1.0, "BYOL view 1 blur");
  check_rate(sol1, kN, 0.0, "BYOL view 1 solarize");
  check_rate(blur2, kN, 0.1, "BYOL view 2 blur");
  check_rate(sol2, kN, 0.2, "BYOL view 2 solarize");

  // Draws of different transforms are independent: hflip in both views of a sample ~ 0.25.
  std::vector<ViewParams> v0 = draw(config, kN, 256, 256, 0), v1 = draw(config, kN, 256, 256, 1);
  int64_t both = 0;
  for (int i = 0; i < kN; ++i) both += v0[i].hflip && v1[i].hflip;
  check_rate(both, kN, 0.25, "hflip in both views");
}

TEST_CASE("sampler: jitter factors fill lightly's scaled ranges; op orders are uniform") {
  struct Case {
    float strength, bright, contrast, sat, hue;
  };
  for (Case c : {Case{1.0f, 0.8f, 0.8f, 0.8f, 0.2f}, Case{0.5f, 0.8f, 2.4f, 0.4f, 0.6f}}) {
    CAPTURE(c.strength);
    ViewConfig config;
    config.cj_prob = 1.0f;
    config.cj_strength = c.strength;
    config.cj_bright = c.bright;
    config.cj_contrast = c.contrast;
    config.cj_sat = c.sat;
    config.cj_hue = c.hue;
    std::vector<ViewParams> params = draw(config, kN);
    auto check_uniform = [&](auto get, double lo, double hi, const char* what) {
      std::vector<double> v;
      for (const ViewParams& p : params) v.push_back(get(p));
      const double mn = *std::min_element(v.begin(), v.end());
      const double mx = *std::max_element(v.begin(), v.end());
      INFO(what << " range [" << mn << ", " << mx << "], expected [" << lo << ", " << hi << "]");
      CHECK(mn >= lo - 1e-6);
      CHECK(mx <= hi + 1e-6);
      CHECK(mn < lo + 0.001 * (hi - lo));  // the whole range is used
      CHECK(mx > hi - 0.001 * (hi - lo));
      std::vector<double> h = histogram(v, lo, hi, 10);
      for (double f : h) CHECK(std::fabs(f - 0.1) < kSigmas * std::sqrt(0.09 / kN));
    };
    const double b = c.strength * c.bright, ct = c.strength * c.contrast, s = c.strength * c.sat,
                 h = c.strength * c.hue;
    check_uniform([](const ViewParams& p) { return p.brightness; }, std::max(0.0, 1 - b), 1 + b,
                  "brightness");
    check_uniform([](const ViewParams& p) { return p.contrast; }, std::max(0.0, 1 - ct), 1 + ct,
                  "contrast");
    check_uniform([](const ViewParams& p) { return p.saturation; }, std::max(0.0, 1 - s), 1 + s,
                  "saturation");
    check_uniform([](const ViewParams& p) { return p.hue; }, -h, h, "hue");

    // Each of the 24 orders of the four ops appears with frequency 1/24.
    std::map<int, int64_t> orders;
    for (const ViewParams& p : params) {
      REQUIRE(p.jitter_ops == 4);
      std::set<int> ops(p.order, p.order + 4);
      REQUIRE(ops.size() == 4);
      orders[p.order[0] * 1000 + p.order[1] * 100 + p.order[2] * 10 + p.order[3]]++;
    }
    CHECK(orders.size() == 24);
    for (auto& [code, count] : orders) {
      CAPTURE(code);
      check_rate(count, kN, 1.0 / 24.0, "jitter order");
    }
  }
}

TEST_CASE("sampler: a zero jitter strength leaves that op out, as torchvision does") {
  ViewConfig config;
  config.cj_prob = 1.0f;
  config.cj_hue = 0.0f;
  config.cj_contrast = 0.0f;
  for (const ViewParams& p : draw(config, 1000)) {
    REQUIRE(p.jitter_ops == 2);
    for (int k = 0; k < 2; ++k)
      CHECK((p.order[k] == kernels::kBrightness || p.order[k] == kernels::kSaturation));
  }
}

TEST_CASE("sampler: blur sigma is uniform in sigmas; the radius is ceil(3 sigma)") {
  ViewConfig config;
  config.gaussian_blur = 1.0f;
  config.sigmas = {0.1f, 2.0f};
  std::vector<double> sigma;
  for (const ViewParams& p : draw(config, kN)) {
    sigma.push_back(p.blur_sigma);
    REQUIRE(p.blur_radius == std::max(1, int(std::ceil(3.0 * p.blur_sigma))));
  }
  CHECK(*std::min_element(sigma.begin(), sigma.end()) >= 0.1 - 1e-6);
  CHECK(*std::max_element(sigma.begin(), sigma.end()) <= 2.0 + 1e-6);
  for (double f : histogram(sigma, 0.1, 2.0, 10)) {
    CHECK(std::fabs(f - 0.1) < kSigmas * std::sqrt(0.09 / kN));
  }
}

TEST_CASE("sampler: parameters are a pure function of (seed, epoch, index, view)") {
  ViewConfig config;
  config.rr_prob = 0.5f;
  config.vf_prob = 0.5f;
  auto same = [](const ViewParams& a, const ViewParams& b) {
    return a.crop_top == b.crop_top && a.crop_left == b.crop_left && a.crop_h == b.crop_h &&
           a.crop_w == b.crop_w && a.hflip == b.hflip && a.vflip == b.vflip &&
           a.rotate90 == b.rotate90 && a.brightness == b.brightness && a.hue == b.hue &&
           a.blur_sigma == b.blur_sigma && a.grayscale == b.grayscale;
  };
  const ViewParams base = sample_view(config, 100, 120, 1, 2, 42, 0);
  CHECK(same(base, sample_view(config, 100, 120, 1, 2, 42, 0)));
  CHECK_FALSE(same(base, sample_view(config, 100, 120, 2, 2, 42, 0)));  // seed
  CHECK_FALSE(same(base, sample_view(config, 100, 120, 1, 3, 42, 0)));  // epoch
  CHECK_FALSE(same(base, sample_view(config, 100, 120, 1, 2, 43, 0)));  // index
  CHECK_FALSE(same(base, sample_view(config, 100, 120, 1, 2, 42, 1)));  // view
}

TEST_CASE("configs: lightly's presets and clear errors for bad values") {
  const TransformConfig simclr = simclr_transform();
  REQUIRE(simclr.views.size() == 2);
  const kernels::AugmentViewSpec s = view_spec(simclr.views[0]);
  CHECK(s.out_h == 224);
  CHECK(s.brightness == doctest::Approx(0.8));
  CHECK(s.hue == doctest::Approx(0.2));
  CHECK(s.scale_min == doctest::Approx(0.08));
  CHECK(s.blur_prob == doctest::Approx(0.5));
  CHECK(s.grayscale_prob == doctest::Approx(0.2));
  CHECK(s.sigma_min == doctest::Approx(0.1));
  CHECK(s.sigma_max == doctest::Approx(2.0));
  CHECK(s.std[0] == doctest::Approx(0.229));

  ViewConfig strong;
  strong.cj_strength = 0.5f;
  const kernels::AugmentViewSpec half = view_spec(strong);
  CHECK(half.brightness == doctest::Approx(0.4));
  CHECK(half.contrast == doctest::Approx(0.4));
  CHECK(half.saturation == doctest::Approx(0.4));
  CHECK(half.hue == doctest::Approx(0.1));

  const kernels::AugmentViewSpec moco = view_spec(moco_v2_transform(32).views[0]);
  CHECK(moco.out_h == 32);
  CHECK(moco.scale_min == doctest::Approx(0.2));
  CHECK(moco.brightness == doctest::Approx(0.4));
  CHECK(moco.hue == doctest::Approx(0.1));
  const kernels::AugmentViewSpec siam = view_spec(simsiam_transform().views[1]);
  CHECK(siam.saturation == doctest::Approx(0.4));
  CHECK(siam.scale_min == doctest::Approx(0.2));
  const TransformConfig byol = byol_transform();
  CHECK(view_spec(byol.views[0]).saturation == doctest::Approx(0.2));
  CHECK(view_spec(byol.views[0]).blur_prob == 1.0f);
  CHECK(view_spec(byol.views[1]).blur_prob == doctest::Approx(0.1));
  CHECK(view_spec(byol.views[1]).solarize_prob == doctest::Approx(0.2));

  ViewConfig bad;
  bad.hf_prob = 1.5f;
  CHECK_THROWS_WITH_AS(view_spec(bad), doctest::Contains("hf_prob"), Error);
  bad = ViewConfig{};
  bad.cj_hue = 0.6f;
  CHECK_THROWS_WITH_AS(view_spec(bad), doctest::Contains("hue"), Error);
  bad = ViewConfig{};
  bad.rr_degrees = std::array<float, 2>{-10.0f, 10.0f};
  CHECK_THROWS_WITH_AS(view_spec(bad), doctest::Contains("rr_degrees"), Error);
  bad = ViewConfig{};
  bad.sigmas = {2.0f, 1.0f};
  CHECK_THROWS_WITH_AS(view_spec(bad), doctest::Contains("sigmas"), Error);
  bad = ViewConfig{};
  bad.min_scale = 0.0f;
  CHECK_THROWS_WITH_AS(view_spec(bad), doctest::Contains("min_scale"), Error);
  bad = ViewConfig{};
  bad.input_size = 0;
  CHECK_THROWS_WITH_AS(view_spec(bad), doctest::Contains("input_size"), Error);
}
