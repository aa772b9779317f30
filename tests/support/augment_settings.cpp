#include "support/augment_settings.h"

#include <algorithm>
#include <map>
#include <sstream>
#include <vector>

#include "support/testing.h"

namespace lumen::testing {

namespace {

std::vector<std::string> field_names(const SafetensorsFile& f) {
  std::vector<std::string> names;
  std::stringstream list(f.metadata.at("fields"));
  for (std::string name; std::getline(list, name, ',');) names.push_back(name);
  return names;
}

// Lumen's value of each field of the fixture for one view (the kernel-side spec).
std::map<std::string, double> lumen_fields(const ViewConfig& view) {
  const kernels::AugmentViewSpec s = view_spec(view);
  auto lo = [](float strength) { return std::max(0.0, 1.0 - double(strength)); };
  std::map<std::string, double> m = {
      {"size", s.out_h},
      {"scale_min", s.scale_min},
      {"scale_max", s.scale_max},
      {"ratio_min", s.ratio_min},
      {"ratio_max", s.ratio_max},
      {"bicubic", s.interpolation == kernels::kBicubic ? 1.0 : 0.0},
      {"hf_prob", s.hflip_prob},
      {"vf_prob", s.vflip_prob},
      {"rr_prob", s.rotate90_prob},
      {"rr_angle", 90.0},
      {"cj_prob", s.jitter_prob},
      {"brightness_lo", lo(s.brightness)},
      {"brightness_hi", 1.0 + s.brightness},
      {"contrast_lo", lo(s.contrast)},
      {"contrast_hi", 1.0 + s.contrast},
      {"saturation_lo", lo(s.saturation)},
      {"saturation_hi", 1.0 + s.saturation},
      {"hue_lo", -double(s.hue)},
      {"hue_hi", s.hue},
      {"gray_prob", s.grayscale_prob},
      {"blur_prob", s.blur_prob},
      {"sigma_min", s.sigma_min},
      {"sigma_max", s.sigma_max},
      {"solarize_prob", s.solarize_prob},
      {"solarize_threshold", double(s.solarize_threshold) * 255.0},  // lightly's is on 0..255
      {"mean_r", s.mean[0]},
      {"mean_g", s.mean[1]},
      {"mean_b", s.mean[2]},
      {"std_r", s.std[0]},
      {"std_g", s.std[1]},
      {"std_b", s.std[2]},
  };
  return m;
}

}  // namespace

void check_settings(const TransformConfig& t, const SafetensorsFile& f, const std::string& key) {
  CAPTURE(key);
  const Tensor rows = f.tensors.at(key);  // (views, fields) f64
  const std::vector<std::string> names = field_names(f);
  REQUIRE(int64_t(t.views.size()) == rows.size(0));
  REQUIRE(int64_t(names.size()) == rows.size(1));
  const std::vector<double> values = rows.to_doubles();
  for (size_t v = 0; v < t.views.size(); ++v) {
    CAPTURE(v);
    const std::map<std::string, double> ours = lumen_fields(t.views[v]);
    for (size_t k = 0; k < names.size(); ++k) {
      CAPTURE(names[k]);
      double theirs = values[v * names.size() + k];
      // SwaVViewTransform has no solarization: Lumen's probability must then be 0 (threshold as
      // every preset's).
      if (names[k] == "solarize_prob" && theirs < 0) theirs = 0.0;
      if (names[k] == "solarize_threshold" && theirs < 0) theirs = 128.0;
      CHECK(ours.at(names[k]) == doctest::Approx(theirs).epsilon(1e-6));
    }
  }
}

}  // namespace lumen::testing
