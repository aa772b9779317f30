#include "api/train_config.h"

#include <algorithm>
#include <cstdio>

#include "api/methods.h"

namespace lumen {

namespace {
using K = ConfigKind;

std::vector<ConfigKey> data_keys() {
  return {
      {"input_dir", K::path, "", "image folder (subfolders = classes) or a dataset file"},
      {"seed", K::integer, "1", "random seed (data order, augmentations, initialisation)", {}, 0},
      resumable({"device", K::choice, "auto", "where to run", {"auto", "cpu", "cuda"}}),
      {"model.name",
       K::choice,
       "resnet-18",
       "backbone",
       {"resnet-9", "resnet-18", "resnet-34", "resnet-50", "torchvision/resnet18",
        "torchvision/resnet34", "torchvision/resnet50", "torchvision/resnet101"}},
      {"model.width", K::number, "1", "width multiplier of the small-image ResNets", {}, 0},
      {"loader.batch_size", K::integer, "256", "images per step", {}, 1},
      resumable(
          {"loader.num_workers", K::integer, "-1", "decode threads (-1: one per core)", {}, -1}),
      {"data.on_error", K::choice, "error", "what to do with unreadable images", {"error", "skip"}},
      {"data.limit", K::integer, "0", "use only the first N images (0: all)", {}, 0},
      {"data.filenames", K::text, "",
       "text file naming the images of input_dir to use, one path relative to it a line (default: "
       "all; the folder is then not listed)"},
  };
}

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

std::string number_text(double v) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", v);
  return text;
}

// A view's value of a field as config text ("" where the field has no value).
std::string field_text(const ViewField& f, const ViewConfig& v) {
  const std::string key = f.key;
  if (f.value != nullptr) return number_text(v.*f.value);
  if (key == "sigmas") return "(" + number_text(v.sigmas[0]) + "," + number_text(v.sigmas[1]) + ")";
  if (key == "rr_degrees" && v.rr_degrees) {
    return "(" + number_text((*v.rr_degrees)[0]) + "," + number_text((*v.rr_degrees)[1]) + ")";
  }
  if (key == "normalize") return v.normalize ? "true" : "false";
  return "";
}

std::string view_key(size_t view, const char* field) {
  return "collate.view_" + std::to_string(view + 1) + "." + field;
}

}  // namespace

std::vector<ConfigKey> collate_keys(const TransformConfig& preset) {
  std::vector<ConfigKey> keys = {{"collate.input_size",
                                  K::integer,
                                  std::to_string(preset.views.at(0).input_size),
                                  "size of the views",
                                  {},
                                  1}};
  for (const ViewField& f : view_fields()) {
    std::vector<std::string> values;
    for (const ViewConfig& v : preset.views) values.push_back(field_text(f, v));
    const bool same = std::all_of(values.begin(), values.end(),
                                  [&](const std::string& s) { return s == values[0]; });
    std::string help = f.help;
    if (!same) {
      help += " (per view:";
      for (const std::string& s : values) help += " " + s;
      help += ")";
    }
    keys.push_back({std::string("collate.") + f.key, f.kind, same ? values[0] : "", help});
    for (size_t i = 0; i < preset.views.size(); ++i) {
      ConfigKey k{view_key(i, f.key), f.kind, values[i],
                  "view " + std::to_string(i + 1) + ": " + f.help};
      k.in_help = false;
      keys.push_back(k);
    }
  }
  return keys;
}

TransformConfig views_from_config(const Config& c, const TransformConfig& preset) {
  TransformConfig t = preset;
  const int input_size = int(c.get_int("collate.input_size"));
  for (size_t i = 0; i < t.views.size(); ++i) {
    ViewConfig& v = t.views[i];
    v.input_size = input_size;
    for (const ViewField& f : view_fields()) {
      // view_N.KEY, else KEY, else the preset's value.
      std::string key = view_key(i, f.key);
      if (!c.is_set(key)) key = std::string("collate.") + f.key;
      if (!c.is_set(key)) continue;
      const std::string name = f.key;
      if (f.value != nullptr) {
        v.*f.value = float(c.get_float(key));
      } else if (name == "sigmas") {
        const auto s = c.get_pair(key);
        v.sigmas = {float(s.first), float(s.second)};
      } else if (name == "rr_degrees") {
        const auto d = c.get_pair(key);  // rejected by view_spec below, with the reason
        v.rr_degrees = std::array<float, 2>{float(d.first), float(d.second)};
      } else if (name == "normalize") {
        if (!c.get_bool(key)) v.normalize.reset();
      }  // kernel_size: ignored, as lightly ignores it
    }
    view_spec(v);  // validates the values, naming a bad one
  }
  return t;
}

std::vector<ConfigKey> train_config_schema(const std::string& method_name) {
  const MethodEntry& method = find_method(method_name);
  std::vector<std::string> names;
  for (const MethodEntry& m : method_table()) names.push_back(m.name);
  std::vector<ConfigKey> keys = {{"method", K::choice, "simclr", "self-supervised method", names}};
  for (const ConfigKey& k : data_keys()) keys.push_back(k);
  std::vector<ConfigKey> more = {
      resumable({"output_dir", K::path, "lumen_out", "where checkpoints, metrics and caches go"}),
      resumable({"checkpoint", K::path, "",
                 "start from these weights (Lumen checkpoint or torchvision)"}),
      resumable({"resume", K::boolean, "false",
                 "continue the run in output_dir from its last checkpoint"}),
      resumable({"overwrite", K::boolean, "false",
                 "a new run deletes an earlier run's checkpoints and metrics in output_dir"}),
      {"optimizer.name", K::choice, "sgd", "optimizer", {"sgd", "lars", "adamw"}},
      {"optimizer.lr",
       K::number,
       "",
       method.lr_scales_with_batch ? "learning rate used as given (default 0.06 * batch/128)"
                                   : "learning rate used as given (default 0.06, not scaled)",
       {},
       0},
      {"optimizer.momentum", K::number, "0.9", "SGD / LARS momentum", {}, 0},
      {"optimizer.weight_decay", K::number, "5e-4", "weight decay (not on BN and biases)", {}, 0},
      {"scheduler.name", K::choice, "cosine", "learning-rate schedule", {"cosine", "none"}},
      {"scheduler.warmup_epochs", K::number, "0", "linear warm-up epochs", {}, 0},
      resumable({"trainer.max_epochs", K::integer, "100", "epochs to train", {}, 1}),
      resumable({"trainer.max_steps",
                 K::integer,
                 "-1",
                 "stop after this many steps in all, resumable (-1: no limit; the schedule spans "
                 "max_epochs)",
                 {},
                 -1}),
      {"trainer.precision",
       K::choice,
       "auto",
       "arithmetic: bf16 on GPU, 32 on CPU by default (no fp16: it needs loss scaling)",
       {"auto", "32", "32-true", "bf16", "bf16-mixed"}},
      resumable({"trainer.checkpoint_every",
                 K::integer,
                 "10",
                 "write a checkpoint every N epochs",
                 {},
                 0}),
      resumable({"trainer.knn_every",
                 K::integer,
                 "0",
                 "kNN accuracy on val_dir every N epochs (0: off)",
                 {},
                 0}),
      resumable({"trainer.cuda_graph", K::boolean, "true",
                 "on a GPU, replay forward and backward as a CUDA graph after the warm-up "
                 "steps"}),
      resumable({"trainer.graph_warmup",
                 K::integer,
                 "3",
                 "eager steps before the CUDA graph is captured",
                 {},
                 1}),
      resumable({"val_dir", K::path, "", "labelled folder for kNN monitoring"}),
  };
  keys.insert(keys.end(), more.begin(), more.end());
  for (const ConfigKey& k : method.keys) keys.push_back(k);
  for (const ConfigKey& k : collate_keys(method.views(224))) keys.push_back(k);
  return keys;
}

std::string method_of(const std::vector<std::string>& args) {
  std::string method = "simclr";
  for (const std::string& a : args) {
    if (a.rfind("method=", 0) == 0) method = a.substr(7);
  }
  return method;
}

std::vector<ConfigKey> embed_config_schema() {
  std::vector<ConfigKey> keys = data_keys();
  std::vector<ConfigKey> more = {
      {"checkpoint", K::path, "", "Lumen checkpoint, or torchvision ResNet weights (safetensors)"},
      {"trainer.precision",
       K::choice,
       "auto",
       "arithmetic of the forward pass: bf16 on GPU, 32 on CPU by default",
       {"auto", "32", "32-true", "bf16", "bf16-mixed"}},
      {"output", K::path, "embeddings.csv", "CSV file to write (lightly's format)"},
      {"collate.input_size",
       K::integer,
       "224",
       "images are resized and centre-cropped to this",
       {},
       1},
  };
  keys.insert(keys.end(), more.begin(), more.end());
  return keys;
}

std::vector<ConfigKey> knn_config_schema() {
  std::vector<ConfigKey> keys = embed_config_schema();
  keys.erase(std::remove_if(keys.begin(), keys.end(),
                            [](const ConfigKey& k) {
                              return k.name == "input_dir" || k.name == "output" ||
                                     k.name == "data.filenames";  // names files of input_dir only
                            }),
             keys.end());
  std::vector<ConfigKey> more = {
      {"train_dir", K::path, "", "labelled images whose embeddings vote"},
      {"test_dir", K::path, "", "labelled images to classify"},
      {"knn.k", K::integer, "200", "neighbours that vote", {}, 1},
      {"knn.t", K::number, "0.1", "temperature of the vote weights"},
  };
  keys.insert(keys.end(), more.begin(), more.end());
  return keys;
}

std::vector<ConfigKey> check_config_schema() {
  return {{"input_dir", K::path, "", "image folder to check"},
          {"loader.num_workers", K::integer, "-1", "decode threads (-1: one per core)", {}, -1}};
}

}  // namespace lumen
