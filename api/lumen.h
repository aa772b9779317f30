// Lumen's public C++ API, mirroring lightly's three lines:
//
//   lumen::Config cfg = lumen::train_config({"input_dir=images", "trainer.max_epochs=10"});
//   std::string checkpoint = lumen::train_embedding_model(cfg);
//   lumen::Embeddings e = lumen::embed_images(lumen::embed_config({"input_dir=images",
//                                                                 "checkpoint=" + checkpoint}));
//
// Every function throws lumen::Error with a message that says what to do.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "api/config.h"
#include "augment/transform.h"
#include "engine/eval/knn.h"
#include "engine/io/embeddings_csv.h"
#include "layers/backbone.h"

namespace lumen {

// Configs of each command, parsed from key=value arguments (see `lumen <command> --help`).
Config train_config(const std::vector<std::string>& args = {});
Config embed_config(const std::vector<std::string>& args = {});
Config knn_config(const std::vector<std::string>& args = {});

// Trains the configured method (method=simclr, mocov2, ...: api/methods.h) and returns the path of
// the last checkpoint (output_dir/checkpoints/last.safetensors). The backbone is the ResNet of
// model.name / model.width, or any module of the caller's (layers/backbone.h):
//
//   struct TinyCnn : lumen::Module { ... };  // (N, H, W, 3) -> (N, 32)
//   lumen::Backbone tiny{"tiny-cnn", 32, [] { return std::make_unique<TinyCnn>(); }};
//   lumen::train_embedding_model(cfg, tiny);
std::string train_embedding_model(const Config& config);
std::string train_embedding_model(const Config& config, const Backbone& backbone);

// Training with custom augmentation stages (augment/custom_stage.h): `edit_views` changes the
// views the config describes (the method's preset with its collate.* keys) before the run starts,
// e.g. gives some views a stage of the caller's:
//
//   lumen::train_embedding_model(cfg, [](lumen::TransformConfig& t) {
//     t.views[1].custom = invert_colors(0.5f);  // lightly's views are 0-based lists too
//   });
//
// A resumed run must make the same edit (the config records the keys, not the C++ code). A stage
// without a CUDA version on a GPU run is refused before anything is built.
using ViewsEdit = std::function<void(TransformConfig& views)>;
std::string train_embedding_model(const Config& config, const ViewsEdit& edit_views);
std::string train_embedding_model(const Config& config, const Backbone& backbone,
                                  const ViewsEdit& edit_views);

// Backbone features of every image of input_dir, in dataset order (no augmentation: the shorter
// side resized to collate.input_size, centre crop, ImageNet normalisation). The weights come from
// `checkpoint` (a Lumen checkpoint, or torchvision ResNet weights with model.name=torchvision/...),
// or are randomly initialised from `seed` when no checkpoint is given.
Embeddings embed_images(const Config& config);
Embeddings embed_images(const Config& config, const Backbone& backbone);  // a custom backbone

// Throws, before any work, unless the `output` of an embed config can be written: a file name (not
// empty, not a folder) in an existing folder where a file can be created, neither the checkpoint
// nor input_dir nor anything inside input_dir (paths compared canonically). `lumen embed` calls it
// before embed_images.
void check_embeddings_output(const Config& config);

// Embeds train_dir and test_dir and classifies the test images by kNN (lightly's knn_predict).
KnnResult knn_evaluate(const Config& config);

}  // namespace lumen
