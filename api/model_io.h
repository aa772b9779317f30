// Devices, dtypes and backbone weights from a config (api/ internals shared by train, embed and
// knn).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "api/config.h"
#include "engine/autograd/parameters.h"
#include "engine/io/safetensors.h"
#include "layers/backbone.h"

namespace lumen {

// "auto" -> cuda:0 when a GPU is usable, else cpu; "cuda" fails clearly without a GPU.
Device device_from_config(const Config& config);
// trainer.precision / device -> the activations' dtype (bf16 on GPU by default, f32 on CPU).
DType activation_dtype(const Config& config, Device device);

// The backbone's entries of a weights file, under their own names (PyTorch layout): from a Lumen
// training checkpoint, its entries under the "backbone_prefix" its metadata names (any method);
// from any other safetensors file (torchvision weights), every entry.
std::map<std::string, Tensor> backbone_weights(const SafetensorsFile& file,
                                               const std::string& path);
// Loads a weights file (as above) into a finalized backbone; errors name the file.
void load_backbone_weights(Module& backbone, const std::string& path);

// A backbone for embedding and the image size it takes. With a Lumen checkpoint, its own config
// names the architecture (model.name, model.width) and, unless collate.input_size is given, the
// size it was trained at; otherwise model.name / model.width / collate.input_size of `config`.
// A custom backbone (not null) replaces the ResNet. Weights come from `checkpoint`, or from seed
// when it is empty.
struct EmbeddingModel {
  std::unique_ptr<Module> backbone;
  std::string name;  // the architecture: model.name, the checkpoint's, or the custom backbone's
  int input_size = 0;
};
// The image size a training checkpoint's backbone embeds at, from its stored config: the largest
// view its method's collate keys make (embedding_size: collate.input_size of the two-view presets,
// DINO's global crops, SwaV's high-resolution crops); 0 when the config names no size.
int64_t trained_input_size(const std::map<std::string, std::string>& saved);
EmbeddingModel load_embedding_model(const Config& config, ParameterBuffer& params, Device device,
                                    const Backbone* custom = nullptr);

}  // namespace lumen
