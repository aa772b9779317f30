#include "api/model_io.h"

#include <cstdio>

#include "api/methods.h"
#include "engine/train/trainer.h"
#include "layers/weights.h"

namespace lumen {

Device device_from_config(const Config& config) {
  const Device d = parse_device(config.get_string("device"));
  require_device(d);
  return d;
}

DType activation_dtype(const Config& config, Device device) {
  const std::string p = config.has("trainer.precision") ? config.get_string("trainer.precision")
                                                        : std::string("auto");
  if (p == "32" || p == "32-true") return DType::f32;
  if (p == "bf16" || p == "bf16-mixed") return DType::bf16;  // Lightning's names too
  return device.is_cuda() ? DType::bf16 : DType::f32;
}

std::map<std::string, Tensor> backbone_weights(const SafetensorsFile& file,
                                               const std::string& path) {
  auto format = file.metadata.find("format");
  if (format == file.metadata.end() || format->second.rfind("lumen-checkpoint", 0) != 0) {
    return file.tensors;  // a plain state dict (torchvision's names)
  }
  auto prefix = file.metadata.find("backbone_prefix");
  LUMEN_CHECK(format->second == kCheckpointFormat && prefix != file.metadata.end(), path,
              " is a checkpoint of an older Lumen (format '", format->second,
              "'), whose backbone this version does not locate; re-train, or export its "
              "backbone with that version");
  std::map<std::string, Tensor> out;
  for (const auto& [name, t] : file.tensors) {
    if (name.rfind(prefix->second, 0) == 0) out.emplace(name.substr(prefix->second.size()), t);
  }
  LUMEN_CHECK(!out.empty(), path, " holds no entry under its backbone prefix '", prefix->second,
              "'; the file is damaged");
  return out;
}

void load_backbone_weights(Module& backbone, const std::string& path) {
  const SafetensorsFile file = load_weights(path);
  load_backbone_state_dict(backbone, backbone_weights(file, path), "'" + path + "'");
}

int64_t trained_input_size(const std::map<std::string, std::string>& saved) {
  // The views are rebuilt from the stored collate keys of the run's method, so every preset
  // follows the one rule of embedding_size (the largest view).
  auto method = saved.find("method");
  auto size = saved.find("collate.input_size");
  if (method == saved.end()) {  // a run older than the method table: its two-view size
    return size == saved.end() ? 0 : std::stoll(size->second);
  }
  const MethodEntry& entry = find_method(method->second);
  // The stored config holds every key; those at their defaults are left unset, as in the run
  // (a per-view key set explicitly for a view the other keys no longer make is an error).
  Config views(collate_keys(entry.views));
  for (const ConfigKey& k : views.schema()) {
    auto it = saved.find(k.name);
    if (it != saved.end() && it->second != k.default_value) views.set(k.name, it->second);
  }
  return embedding_size(views_from_config(views, entry.views));
}

EmbeddingModel load_embedding_model(const Config& config, ParameterBuffer& params, Device device,
                                    const Backbone* custom) {
  const std::string path = config.get_string("checkpoint");
  std::string name = config.get_string("model.name");
  double width = config.get_float("model.width");
  int64_t input_size = config.get_int("collate.input_size");
  SafetensorsFile file;
  if (!path.empty()) {
    file = load_weights(path);
    const std::map<std::string, std::string> saved = checkpoint_config(file);
    auto value = [&](const std::string& key) {
      auto it = saved.find(key);
      return it == saved.end() ? std::string() : it->second;
    };
    const std::string saved_name = value("model.name");
    if (!saved_name.empty() && custom == nullptr) {
      Config stored = config;  // parses the stored values with the same rules as the user's
      try {
        stored.set("model.name", saved_name);
        stored.set("model.width", value("model.width"));
        const int64_t saved_size = trained_input_size(saved);
        if (saved_size > 0) stored.set("collate.input_size", std::to_string(saved_size));
      } catch (const Error& e) {
        LUMEN_FAIL(path, ": the config stored in this checkpoint is unreadable (", e.what(),
                   "); was it written by another Lumen version?");
      }
      if (config.is_set("model.name") && stored.get_string("model.name") != name) {
        std::fprintf(stderr, "%s holds a %s; model.name=%s is ignored\n", path.c_str(),
                     saved_name.c_str(), name.c_str());
      }
      name = stored.get_string("model.name");
      width = stored.get_float("model.width");
      if (!config.is_set("collate.input_size")) input_size = stored.get_int("collate.input_size");
    }
  } else {
    std::fprintf(stderr, "no checkpoint given: embedding with a randomly initialised %s\n",
                 custom != nullptr ? custom->name.c_str() : name.c_str());
  }
  LUMEN_CHECK(input_size > 0, "collate.input_size must be positive, got ", input_size);
  EmbeddingModel model;
  model.input_size = int(input_size);
  const Backbone backbone = custom != nullptr ? *custom : resnet_backbone(name, width);
  model.name = backbone.name;
  model.backbone = backbone.make();
  finalize(*model.backbone, params, device, uint64_t(config.get_int("seed")));
  if (!path.empty()) {
    try {
      load_backbone_state_dict(*model.backbone, backbone_weights(file, path), path);
    } catch (const Error& e) {
      LUMEN_FAIL(e.what(), "; if ", path, " holds torchvision weights, pass the matching ",
                 "model.name (e.g. model.name=torchvision/resnet18)");
    }
  }
  model.backbone->eval();
  return model;
}

}  // namespace lumen
