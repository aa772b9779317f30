// The C++ API with a backbone of the caller's own: any module mapping (N, H, W, 3) images to
// (N, D) features trains under a method, lands in the checkpoint under "backbone.", and embeds.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/testing.h"

#include <filesystem>

#include "api/lumen.h"
#include "engine/io/safetensors.h"
#include "layers/layers.h"
#include "support/datasets.h"

using namespace lumen;

namespace {

// conv 3x3 stride 2 -> BN -> ReLU -> global average pool: (N, H, W, 3) -> (N, 8)
class TinyCnn : public Module {
 public:
  TinyCnn() {
    conv_ = add_child("conv", std::make_unique<Conv2d>(3, 8, 3, 2, 1, false));
    bn_ = add_child("bn", std::make_unique<BatchNorm2d>(8));
    relu_ = add_child("relu", std::make_unique<ReLU>());
    pool_ = add_child("pool", std::make_unique<GlobalAvgPool>());
  }
  Tensor forward(const Tensor& x) override { return (*pool_)((*relu_)((*bn_)((*conv_)(x)))); }

 private:
  Conv2d* conv_;
  BatchNorm2d* bn_;
  ReLU* relu_;
  GlobalAvgPool* pool_;
};

const Backbone kTiny{"tiny-cnn", 8, [] { return std::make_unique<TinyCnn>(); }};

}  // namespace

TEST_CASE("a custom backbone trains, checkpoints under backbone. and embeds") {
  const std::string dir = testing::temp_dir("custom_backbone");
  const std::string data = testing::write_cifar_batch(dir + "/data_batch_1.bin", 32, 4, 2);
  const std::string checkpoint = train_embedding_model(
      train_config({"input_dir=" + data, "output_dir=" + dir + "/run", "device=cpu",
                    "model.out_dim=16", "collate.input_size=16", "loader.batch_size=16",
                    "trainer.max_epochs=2", "seed=4"}),
      kTiny);
  SafetensorsFile file = load_safetensors(checkpoint);
  CHECK(file.tensors.at("backbone.conv.weight").shape() == Shape{8, 3, 3, 3});  // OIHW
  CHECK(file.tensors.count("backbone.bn.running_var") == 1);
  CHECK(file.tensors.at("projection_head.layers.0.weight").shape() == Shape{8, 8});

  const Embeddings e = embed_images(embed_config({"input_dir=" + data, "checkpoint=" + checkpoint,
                                                  "device=cpu", "collate.input_size=16"}),
                                    kTiny);
  CHECK(e.values.shape() == Shape{32, 8});
  // The trained weights were loaded: a random TinyCnn embeds differently.
  const Embeddings random = embed_images(
      embed_config({"input_dir=" + data, "device=cpu", "collate.input_size=16"}), kTiny);
  CHECK(random.values.to_doubles() != e.values.to_doubles());
  std::filesystem::remove_all(dir);
}
