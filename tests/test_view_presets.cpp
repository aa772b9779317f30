// The collate keys of the view presets: the two-view presets keep their keys, DINO and SwAV take
// lightly's argument names (which change the number and sizes of the views), and per-view keys
// work on top of them; bad values are errors naming the key.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/testing.h"

#include "api/view_presets.h"

using namespace lumen;

namespace {
bool has_key(const std::vector<ConfigKey>& keys, const std::string& name) {
  for (const ConfigKey& k : keys) {
    if (k.name == name) return true;
  }
  return false;
}
}  // namespace

TEST_CASE("two-view presets: collate.input_size, collate.KEY and collate.view_N.KEY as before") {
  for (ViewPreset p :
       {ViewPreset::simclr, ViewPreset::moco_v2, ViewPreset::simsiam, ViewPreset::byol}) {
    CAPTURE(preset_class_name(p));
    const std::vector<ConfigKey> keys = collate_keys(p);
    // input_size, then 17 fields: collate.KEY and one key per view of each
    CHECK(keys.size() == 1 + 17 * 3);
    CHECK(keys[0].name == "collate.input_size");
    CHECK(keys[0].default_value == "224");
    for (const char* k : {"collate.cj_prob", "collate.min_scale", "collate.gaussian_blur",
                          "collate.solarization_prob", "collate.view_2.sigmas"}) {
      CHECK_MESSAGE(has_key(keys, k), k);
    }
    CHECK_FALSE(has_key(keys, "collate.max_scale"));
    CHECK_FALSE(has_key(keys, "collate.n_local_views"));
    CHECK(preset_views(p).views.size() == 2);
  }
  Config byol(collate_keys(ViewPreset::byol));
  CHECK(byol.get_string("collate.gaussian_blur").empty());  // the views differ: per view
  CHECK(byol.get_float("collate.view_1.gaussian_blur") == 1.0);
  byol.parse_args({"collate.input_size=40", "collate.view_2.solarization_prob=0"});
  const TransformConfig t = views_from_config(byol, ViewPreset::byol);
  CHECK(t.views[1].input_size == 40);
  CHECK(t.views[1].solarization_prob == 0.0f);
  CHECK(t.views[1].interpolation == Interpolation::bilinear);
}

TEST_CASE("DINO: lightly's DINOTransform arguments make the views") {
  const std::vector<ConfigKey> keys = collate_keys(ViewPreset::dino);
  for (const char* k :
       {"collate.global_crop_size", "collate.global_crop_scale", "collate.local_crop_size",
        "collate.local_crop_scale", "collate.n_local_views", "collate.gaussian_blur",
        "collate.solarization_prob", "collate.cj_strength", "collate.hf_prob",
        "collate.kernel_scale", "collate.view_8.hf_prob"}) {
    CHECK_MESSAGE(has_key(keys, k), k);
  }
  // DINOTransform has no input_size or min_scale: its crop keys set them.
  for (const char* k : {"collate.input_size", "collate.min_scale", "collate.view_9.hf_prob"}) {
    CHECK_FALSE_MESSAGE(has_key(keys, k), k);
  }
  Config cfg(keys);
  const std::string help = cfg.help();
  CHECK(help.find("collate.gaussian_blur") != std::string::npos);
  CHECK(help.find("[default (1,0.1,0.5)]") != std::string::npos);
  CHECK(help.find("  collate.view_1.") == std::string::npos);  // per-view keys: one help line
  CHECK(per_view_keys_help(ViewPreset::dino).find("N = 1..8") != std::string::npos);

  TransformConfig t = views_from_config(cfg, ViewPreset::dino);
  REQUIRE(t.views.size() == 8);
  CHECK(t.views[0].input_size == 224);
  CHECK(t.views[7].input_size == 96);
  CHECK(t.views[0].gaussian_blur == 1.0f);
  CHECK(t.views[1].gaussian_blur == doctest::Approx(0.1));
  CHECK(t.views[1].solarization_prob == doctest::Approx(0.2));
  CHECK(t.views[2].solarization_prob == 0.0f);
  CHECK(t.views[5].gaussian_blur == doctest::Approx(0.5));
  CHECK(t.views[3].min_scale == doctest::Approx(0.05));
  CHECK(t.views[3].max_scale == doctest::Approx(0.4));
  CHECK(t.views[0].cj_strength == doctest::Approx(0.5));
  CHECK(t.views[6].interpolation == Interpolation::bicubic);

  cfg.parse_args({"collate.n_local_views=2", "collate.global_crop_size=64",
                  "collate.local_crop_size=32", "collate.local_crop_scale=(0.1,0.3)",
                  "collate.gaussian_blur=(0.9,0.2,0.3)", "collate.solarization_prob=0.4",
                  "collate.cj_strength=1", "collate.view_3.hf_prob=0"});
  t = views_from_config(cfg, ViewPreset::dino);
  REQUIRE(t.views.size() == 4);
  CHECK(t.views[1].input_size == 64);
  CHECK(t.views[2].input_size == 32);
  CHECK(t.views[3].min_scale == doctest::Approx(0.1));
  CHECK(t.views[0].gaussian_blur == doctest::Approx(0.9));
  CHECK(t.views[3].gaussian_blur == doctest::Approx(0.3));
  CHECK(t.views[1].solarization_prob == doctest::Approx(0.4));
  // As lightly's DINOTransform: cj_strength reaches every view but global view 2.
  for (size_t v = 0; v < t.views.size(); ++v)
    CHECK(t.views[v].cj_strength == (v == 1 ? 0.5f : 1.0f));
  CHECK(t.views[2].hf_prob == 0.0f);
  CHECK(t.views[3].hf_prob == doctest::Approx(0.5));

  cfg.set("collate.view_2.cj_strength", "1");
  CHECK(views_from_config(cfg, ViewPreset::dino).views[1].cj_strength == 1.0f);

  // A per-view key of a view the keys no longer make, and malformed lists, are errors.
  cfg.set("collate.view_7.hf_prob", "0");
  CHECK_THROWS_WITH_AS(views_from_config(cfg, ViewPreset::dino),
                       doctest::Contains("collate.view_7.hf_prob is set, but the collate keys "
                                         "make 4 views"),
                       Error);
  Config bad(keys);
  bad.set("collate.gaussian_blur", "(0.5,0.5)");
  CHECK_THROWS_WITH_AS(views_from_config(bad, ViewPreset::dino),
                       doctest::Contains("give three probabilities"), Error);
  CHECK_THROWS_WITH_AS(bad.set("collate.gaussian_blur", "(0.5,x)"),
                       doctest::Contains("a list of numbers"), Error);
  CHECK_THROWS_WITH_AS(bad.set("collate.n_local_views", "-1"), doctest::Contains("at least 0"),
                       Error);
  Config inverted(keys);
  inverted.set("collate.global_crop_scale", "(0.9,0.5)");
  CHECK_THROWS_WITH_AS(views_from_config(inverted, ViewPreset::dino),
                       doctest::Contains("min_scale <= max_scale"), Error);
}

TEST_CASE("SwAV: lightly's SwaVTransform crop categories make the views") {
  const std::vector<ConfigKey> keys = collate_keys(ViewPreset::swav);
  for (const char* k : {"collate.crop_sizes", "collate.crop_counts", "collate.crop_min_scales",
                        "collate.crop_max_scales", "collate.gaussian_blur", "collate.cj_prob",
                        "collate.view_8.cj_prob"}) {
    CHECK_MESSAGE(has_key(keys, k), k);
  }
  for (const char* k : {"collate.input_size", "collate.min_scale", "collate.solarization_prob"}) {
    CHECK_FALSE_MESSAGE(has_key(keys, k), k);
  }
  Config cfg(keys);
  CHECK(cfg.get_numbers("collate.crop_sizes") == std::vector<double>{224, 96});
  TransformConfig t = views_from_config(cfg, ViewPreset::swav);
  REQUIRE(t.views.size() == 8);
  CHECK(t.views[1].input_size == 224);
  CHECK(t.views[2].input_size == 96);
  CHECK(t.views[0].min_scale == doctest::Approx(0.14));
  CHECK(t.views[7].max_scale == doctest::Approx(0.14));
  CHECK(t.views[4].interpolation == Interpolation::bilinear);

  cfg.parse_args({"collate.crop_sizes=64,32,16", "collate.crop_counts=(1, 2, 3)",
                  "collate.crop_min_scales=[0.3,0.1,0.05]", "collate.crop_max_scales=(1,0.3,0.1)",
                  "collate.gaussian_blur=0.2", "collate.view_6.gaussian_blur=1"});
  t = views_from_config(cfg, ViewPreset::swav);
  REQUIRE(t.views.size() == 6);
  const int sizes[6] = {64, 32, 32, 16, 16, 16};
  for (int v = 0; v < 6; ++v) CHECK(t.views[v].input_size == sizes[v]);
  CHECK(t.views[3].min_scale == doctest::Approx(0.05));
  CHECK(t.views[2].max_scale == doctest::Approx(0.3));
  CHECK(t.views[0].gaussian_blur == doctest::Approx(0.2));
  CHECK(t.views[5].gaussian_blur == 1.0f);

  Config mismatch(keys);
  mismatch.set("collate.crop_counts", "(2,6,1)");
  CHECK_THROWS_WITH_AS(views_from_config(mismatch, ViewPreset::swav),
                       doctest::Contains("Length of crop_sizes and crop_counts must be equal"),
                       Error);
  Config fractional(keys);
  fractional.set("collate.crop_sizes", "(224.5,96)");
  CHECK_THROWS_WITH_AS(views_from_config(fractional, ViewPreset::swav),
                       doctest::Contains("whole number"), Error);
}
