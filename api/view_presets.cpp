#include "api/view_presets.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace lumen {

namespace {
using K = ConfigKind;

// One field of lightly's view transforms: its key, kind, help and where it lives in a ViewConfig.
struct ViewField {
  const char* key;
  ConfigKind kind;
  const char* help;
  float ViewConfig::*value;  // number fields; null for the others (handled by name)
};

const std::vector<ViewField>& view_fields() {
  static const std::vector<ViewField> fields = {
      {"cj_prob", K::number, "probability of colour jitter", &ViewConfig::cj_prob},
      {"cj_strength", K::number, "scales all colour jitter strengths", &ViewConfig::cj_strength},
      {"cj_bright", K::number, "brightness jitter", &ViewConfig::cj_bright},
      {"cj_contrast", K::number, "contrast jitter", &ViewConfig::cj_contrast},
      {"cj_sat", K::number, "saturation jitter", &ViewConfig::cj_sat},
      {"cj_hue", K::number, "hue jitter", &ViewConfig::cj_hue},
      {"min_scale", K::number, "smallest crop area fraction", &ViewConfig::min_scale},
      {"random_gray_scale", K::number, "probability of grayscale", &ViewConfig::random_gray_scale},
      {"gaussian_blur", K::number, "probability of Gaussian blur", &ViewConfig::gaussian_blur},
      {"sigmas", K::number_pair, "range of the blur sigma", nullptr},
      {"vf_prob", K::number, "probability of a vertical flip", &ViewConfig::vf_prob},
      {"hf_prob", K::number, "probability of a horizontal flip", &ViewConfig::hf_prob},
      {"rr_prob", K::number, "probability of a rotation", &ViewConfig::rr_prob},
      {"rr_degrees", K::number_pair,
       "rotation angle range; unset: 90-degree rotations (random angles are not supported yet)",
       nullptr},
      {"solarization_prob", K::number, "probability of solarization",
       &ViewConfig::solarization_prob},
      {"kernel_size", K::number, "deprecated in lightly and ignored there too", nullptr},
      {"normalize", K::boolean, "normalise with ImageNet mean and std", nullptr},
  };
  return fields;
}

// The fields a preset sets through its own keys rather than on every view (collate.KEY means
// something else there, or is not one of the preset's arguments).
std::vector<std::string> preset_level_fields(ViewPreset preset) {
  switch (preset) {
    case ViewPreset::dino:  // cj_strength: lightly's DINOTransform leaves global view 2 out
      return {"min_scale", "gaussian_blur", "solarization_prob", "cj_strength"};
    case ViewPreset::swav:
      return {"min_scale", "solarization_prob"};
    default:
      return {};
  }
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::string number_text(double v) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", v);
  return text;
}

template <typename Numbers>
std::string list_text(const Numbers& values) {
  std::string s = "(";
  for (size_t i = 0; i < values.size(); ++i) s += (i ? "," : "") + number_text(values[i]);
  return s + ")";
}

// A view's value of a field as config text ("" where the field has no value).
std::string field_text(const ViewField& f, const ViewConfig& v) {
  const std::string key = f.key;
  if (f.value != nullptr) return number_text(v.*f.value);
  if (key == "sigmas") return list_text(v.sigmas);
  if (key == "rr_degrees" && v.rr_degrees) return list_text(*v.rr_degrees);
  if (key == "normalize") return v.normalize ? "true" : "false";
  return "";
}

std::string view_key(size_t view, const char* field) {
  return "collate.view_" + std::to_string(view + 1) + "." + field;
}

// collate.KEY for the fields every view shares (all but `excluded`), then the hidden per-view
// keys collate.view_N.KEY of every field for the views of `views`.
void add_view_keys(std::vector<ConfigKey>& keys, const TransformConfig& views,
                   const std::vector<std::string>& excluded) {
  for (const ViewField& f : view_fields()) {
    std::vector<std::string> values;
    for (const ViewConfig& v : views.views) values.push_back(field_text(f, v));
    if (!contains(excluded, f.key)) {
      const bool same = std::all_of(values.begin(), values.end(),
                                    [&](const std::string& s) { return s == values[0]; });
      std::string help = f.help;
      if (!same) {
        help += " (per view:";
        for (const std::string& s : values) help += " " + s;
        help += ")";
      }
      keys.push_back({std::string("collate.") + f.key, f.kind, same ? values[0] : "", help});
    }
    for (size_t i = 0; i < views.views.size(); ++i) {
      ConfigKey k{view_key(i, f.key), f.kind, values[i],
                  "view " + std::to_string(i + 1) + ": " + f.help};
      k.in_help = false;
      keys.push_back(k);
    }
  }
}

// Sets one field of a view from the key's value.
void set_field(const Config& c, const ViewField& f, const std::string& key, ViewConfig& v) {
  const std::string name = f.key;
  if (f.value != nullptr) {
    v.*f.value = float(c.get_float(key));
  } else if (name == "sigmas") {
    const auto s = c.get_pair(key);
    v.sigmas = {float(s.first), float(s.second)};
  } else if (name == "rr_degrees") {
    const auto d = c.get_pair(key);  // rejected by view_spec, with the reason
    v.rr_degrees = std::array<float, 2>{float(d.first), float(d.second)};
  } else if (name == "normalize") {
    if (!c.get_bool(key)) {
      v.normalize.reset();
    } else if (!v.normalize) {
      v.normalize = NormalizeConfig{};
    }
  }  // kernel_size: ignored, as lightly ignores it
}

// Applies collate.KEY (fields not in `excluded`) and then collate.view_N.KEY (N up to
// `per_view_keys`) to the views, and validates every view.
void apply_view_keys(const Config& c, TransformConfig& t, size_t per_view_keys,
                     const std::vector<std::string>& excluded) {
  for (size_t i = 0; i < t.views.size(); ++i) {
    ViewConfig& v = t.views[i];
    for (const ViewField& f : view_fields()) {
      const std::string all = std::string("collate.") + f.key;
      if (!contains(excluded, f.key) && c.is_set(all)) set_field(c, f, all, v);
      if (i < per_view_keys && c.is_set(view_key(i, f.key))) {
        set_field(c, f, view_key(i, f.key), v);
      }
    }
    view_spec(v);  // validates the values, naming a bad one
  }
  for (size_t i = t.views.size(); i < per_view_keys; ++i) {
    for (const ViewField& f : view_fields()) {
      LUMEN_CHECK(!c.is_set(view_key(i, f.key)), view_key(i, f.key), " is set, but the collate ",
                  "keys make ", t.views.size(), " views; drop it or add views");
    }
  }
}

std::array<float, 2> scale_pair(const Config& c, const std::string& key) {
  const auto p = c.get_pair(key);
  return {float(p.first), float(p.second)};
}

// A list of whole numbers (crop sizes, counts), each at least `minimum`.
std::vector<int> whole_numbers(const Config& c, const std::string& key, int minimum) {
  std::vector<int> out;
  for (double v : c.get_numbers(key)) {
    LUMEN_CHECK(v == std::floor(v) && v >= minimum && v <= 8192, "bad value '", c.raw(key),
                "' for ", key, ": each entry must be a whole number from ", minimum, " to 8192");
    out.push_back(int(v));
  }
  return out;
}

std::vector<float> floats(const Config& c, const std::string& key) {
  std::vector<float> out;
  for (double v : c.get_numbers(key)) out.push_back(float(v));
  return out;
}

std::vector<ConfigKey> dino_keys() {
  const DINOTransformArgs d;
  return {
      {"collate.global_crop_size",
       K::integer,
       std::to_string(d.global_crop_size),
       "size of the two global views",
       {},
       1},
      {"collate.global_crop_scale", K::number_pair, list_text(d.global_crop_scale),
       "crop area fraction range of the global views"},
      {"collate.local_crop_size",
       K::integer,
       std::to_string(d.local_crop_size),
       "size of the local views",
       {},
       1},
      {"collate.local_crop_scale", K::number_pair, list_text(d.local_crop_scale),
       "crop area fraction range of the local views"},
      {"collate.n_local_views",
       K::integer,
       std::to_string(d.n_local_views),
       "number of local views",
       {},
       0},
      {"collate.gaussian_blur", K::number_list, list_text(d.gaussian_blur),
       "blur probabilities of (global view 1, global view 2, local views)"},
      {"collate.solarization_prob", K::number, number_text(d.solarization_prob),
       "probability of solarization of global view 2"},
      {"collate.cj_strength", K::number, number_text(d.view.cj_strength),
       "scales all colour jitter strengths, except global view 2's (0.5, as lightly's "
       "DINOTransform; set collate.view_2.cj_strength)"},
      {"collate.kernel_scale", K::number, "", "deprecated in lightly and ignored there too"},
  };
}

TransformConfig dino_from_config(const Config& c) {
  DINOTransformArgs a;
  a.global_crop_size = int(c.get_int("collate.global_crop_size"));
  a.global_crop_scale = scale_pair(c, "collate.global_crop_scale");
  a.local_crop_size = int(c.get_int("collate.local_crop_size"));
  a.local_crop_scale = scale_pair(c, "collate.local_crop_scale");
  a.n_local_views = int(c.get_int("collate.n_local_views"));
  const std::vector<float> blur = floats(c, "collate.gaussian_blur");
  LUMEN_CHECK(blur.size() == 3, "bad value '", c.raw("collate.gaussian_blur"),
              "' for collate.gaussian_blur: give three probabilities, of (global view 1, global "
              "view 2, local views)");
  a.gaussian_blur = {blur[0], blur[1], blur[2]};
  a.solarization_prob = float(c.get_float("collate.solarization_prob"));
  a.view.cj_strength = float(c.get_float("collate.cj_strength"));
  return dino_transform(a);
}

std::vector<ConfigKey> swav_keys() {
  const SwaVTransformArgs s;
  return {
      {"collate.crop_sizes", K::number_list, list_text(s.crop_sizes),
       "size of the views of each crop category"},
      {"collate.crop_counts", K::number_list, list_text(s.crop_counts),
       "number of views of each crop category"},
      {"collate.crop_min_scales", K::number_list, list_text(s.crop_min_scales),
       "smallest crop area fraction of each crop category"},
      {"collate.crop_max_scales", K::number_list, list_text(s.crop_max_scales),
       "largest crop area fraction of each crop category"},
  };
}

TransformConfig swav_from_config(const Config& c) {
  SwaVTransformArgs a;
  a.crop_sizes = whole_numbers(c, "collate.crop_sizes", 1);
  a.crop_counts = whole_numbers(c, "collate.crop_counts", 0);
  a.crop_min_scales = floats(c, "collate.crop_min_scales");
  a.crop_max_scales = floats(c, "collate.crop_max_scales");
  return swav_transform(a);
}

}  // namespace

const char* preset_class_name(ViewPreset preset) {
  switch (preset) {
    case ViewPreset::simclr:
      return "SimCLRTransform";
    case ViewPreset::moco_v2:
      return "MoCoV2Transform";
    case ViewPreset::simsiam:
      return "SimSiamTransform";
    case ViewPreset::byol:
      return "BYOLTransform";
    case ViewPreset::vicreg:
      return "VICRegTransform";
    case ViewPreset::dino:
      return "DINOTransform";
    case ViewPreset::swav:
      return "SwaVTransform";
  }
  return "?";
}

TransformConfig preset_views(ViewPreset preset) {
  switch (preset) {
    case ViewPreset::simclr:
      return simclr_transform();
    case ViewPreset::moco_v2:
      return moco_v2_transform();
    case ViewPreset::simsiam:
      return simsiam_transform();
    case ViewPreset::byol:
      return byol_transform();
    case ViewPreset::vicreg:
      return vicreg_transform();
    case ViewPreset::dino:
      return dino_transform();
    case ViewPreset::swav:
      return swav_transform();
  }
  LUMEN_FAIL("unknown view preset");
}

std::vector<ConfigKey> collate_keys(const TransformConfig& views) {
  std::vector<ConfigKey> keys = {{"collate.input_size",
                                  K::integer,
                                  std::to_string(views.views.at(0).input_size),
                                  "size of the views",
                                  {},
                                  1}};
  add_view_keys(keys, views, {});
  return keys;
}

TransformConfig views_from_config(const Config& c, const TransformConfig& views) {
  TransformConfig t = views;
  const int input_size = int(c.get_int("collate.input_size"));
  for (ViewConfig& v : t.views) v.input_size = input_size;
  apply_view_keys(c, t, views.views.size(), {});
  return t;
}

std::vector<ConfigKey> collate_keys(ViewPreset preset) {
  const TransformConfig defaults = preset_views(preset);
  std::vector<ConfigKey> keys;
  if (preset == ViewPreset::dino) {
    keys = dino_keys();
  } else if (preset == ViewPreset::swav) {
    keys = swav_keys();
  } else {
    return collate_keys(defaults);
  }
  add_view_keys(keys, defaults, preset_level_fields(preset));
  return keys;
}

TransformConfig views_from_config(const Config& c, ViewPreset preset) {
  const TransformConfig defaults = preset_views(preset);
  TransformConfig t;
  if (preset == ViewPreset::dino) {
    t = dino_from_config(c);
  } else if (preset == ViewPreset::swav) {
    t = swav_from_config(c);
  } else {
    return views_from_config(c, defaults);
  }
  apply_view_keys(c, t, defaults.views.size(), preset_level_fields(preset));
  return t;
}

std::string per_view_keys_help(ViewPreset preset) {
  const size_t n = preset_views(preset).views.size();
  std::string text =
      "  collate.view_N.KEY  sets collate.KEY on view N only (N = 1.." + std::to_string(n);
  if (preset == ViewPreset::dino) {
    text += ": global view 1, global view 2, then the local views of the defaults";
  } else if (preset == ViewPreset::swav) {
    text += ": the views of the default crop categories, in order";
  }
  text += "), e.g. collate.view_2.gaussian_blur=0.1; collate.KEY sets it on every view\n";
  return text;
}

int embedding_size(const TransformConfig& views) {
  int size = 0;
  for (const ViewConfig& v : views.views) size = std::max(size, v.input_size);
  return size;
}

}  // namespace lumen
