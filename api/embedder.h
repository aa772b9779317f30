// Embedding inside services: a model opened once, then called from any number of threads.
//
//   lumen::Embedder embedder(lumen::embed_config({"checkpoint=run/checkpoints/last.safetensors"}));
//   lumen::Tensor e = embedder.embed_files({"a.jpg", "b.png"});    // (2, D) f32
//   lumen::Tensor f = embedder.embed(images);                       // (N, H, W, 3) u8 -> (N, D)
//
// The weights come from a Lumen checkpoint of any method (its backbone, found through the
// checkpoint's backbone_prefix; its model.name and collate.input_size unless given) or from
// torchvision ResNet weights with model.name=torchvision/resnet18 (34, 50, 101). Preprocessing is
// `lumen embed`'s: the shorter side resized to collate.input_size and the centre cropped (PIL's
// antialiased bilinear, engine/data/resize.h), ImageNet normalisation. Encoded images are decoded
// under the data path's limits (engine/data/image_decode.h).
//
// ResNets run on the inference path (layers/inference.h): batch norm folded into the
// convolutions, fused epilogues, no autograd tape, f32 on the CPU; on a GPU bf16 by default
// (trainer.precision=32 for f32), a CUDA context and a CUDA graph per batch shape in each worker.
// A custom backbone (layers/backbone.h) runs its own eval forward without recording (on a GPU one
// call at a time). Every method is const and thread-safe: a call takes a worker (its workspaces,
// on a GPU its stream) from a pool, making one when none is free, and gives it back; nothing
// shared is written.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api/config.h"
#include "engine/data/image_decode.h"
#include "layers/backbone.h"

namespace lumen {

struct EmbedderSettings {
  int threads = 0;          // OpenMP threads of one CPU forward (0: omp_get_max_threads())
  int64_t max_batch = 256;  // larger calls run in batches of this many images
  bool cuda_graphs = true;  // GPU: replay each batch shape from a CUDA graph
  data::DecodeLimits limits;
};

class Embedder {
 public:
  // From the keys of an embed config (checkpoint, model.name, model.width, collate.input_size,
  // device, trainer.precision when the schema has it, seed for a backbone without checkpoint,
  // loader.batch_size as max_batch). `custom`: the checkpoint's backbone is this module (as
  // embed_images(config, backbone)).
  explicit Embedder(const Config& config, const Backbone* custom = nullptr,
                    EmbedderSettings settings = {});
  // The weights `backbone` (built by `architecture`) holds now, copied: later changes to the
  // module do not reach the embedder (kNN monitoring during training).
  Embedder(Module& backbone, const Backbone& architecture, int input_size, Device device,
           DType dtype, EmbedderSettings settings = {});
  ~Embedder();
  Embedder(const Embedder&) = delete;
  Embedder& operator=(const Embedder&) = delete;

  // images: (N, H, W, 3) u8 on the CPU, any H and W (resized unless input_size square)
  //   -> (N, D) f32 on the CPU
  Tensor embed(const Tensor& images) const;
  // Encoded images (JPEG, PNG, BMP, PNM, TIFF, WebP bytes) -> (N, D); a bad image throws
  // lumen::Error naming its index and the reason.
  Tensor embed_encoded(const std::vector<std::string_view>& images) const;
  // Image files -> (N, D); a bad file throws naming the file.
  Tensor embed_files(const std::vector<std::string>& paths) const;
  // One encoded image decoded and resized to (S, S, 3) u8 as embed_encoded does it, for callers
  // that gather images into batches themselves (`lumen serve`). Throws lumen::Error with the
  // decoder's reason alone.
  Tensor prepare(std::string_view encoded) const;

  int64_t dim() const;
  int input_size() const;
  const std::string& model_name() const;  // "torchvision/resnet18", "resnet-18", a custom name
  const std::string& checkpoint() const;  // "" for random weights
  Device device() const;
  DType dtype() const;
  bool inference_path() const;  // false: a custom backbone's own forward

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lumen
