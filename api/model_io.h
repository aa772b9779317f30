// Building the configured model and loading weights into it (api/ internals shared by train,
// embed and knn).
#pragma once

#include <memory>
#include <string>

#include "api/config.h"
#include "engine/autograd/parameters.h"
#include "layers/simclr.h"

namespace lumen {

// "auto" -> cuda:0 when a GPU is usable, else cpu; "cuda" fails clearly without a GPU.
Device device_from_config(const Config& config);
// trainer.precision / device -> the activations' dtype (bf16 on GPU by default, f32 on CPU).
DType activation_dtype(const Config& config, Device device);

// A Lumen checkpoint holds the backbone under torchvision's names and everything else under these
// prefixes.
constexpr const char* kHeadPrefix = "projection_head.";
constexpr const char* kOptimizerPrefix = "optimizer.";
constexpr const char* kCriterionPrefix = "criterion.";

// The backbone's entries of a checkpoint's tensors (everything without a non-backbone prefix).
std::map<std::string, Tensor> backbone_entries(const std::map<std::string, Tensor>& tensors);

// A backbone for embedding and the image size it takes. With a Lumen checkpoint, its own config
// names the architecture (model.name, model.width) and, unless collate.input_size is given, the
// size it was trained at; otherwise model.name / model.width / collate.input_size of `config`.
// Weights come from `checkpoint`, or from seed when it is empty.
struct EmbeddingModel {
  std::unique_ptr<ResNet> backbone;
  int input_size = 0;
};
EmbeddingModel load_embedding_model(const Config& config, ParameterBuffer& params, Device device);

}  // namespace lumen
