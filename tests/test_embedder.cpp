// lumen::Embedder (api/embedder.h): opened from a Lumen checkpoint of any method or torchvision
// weights, embedding decoded images, encoded bytes and files as `lumen embed` does, from many
// threads at once with the results of one thread.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/testing.h"

#include <filesystem>
#include <map>
#include <thread>

#include "api/embedder.h"
#include "api/lumen.h"
#include "api/model_io.h"
#include "augment/normalize.h"
#include "engine/autograd/tape.h"
#include "engine/data/resize.h"
#include "engine/ops/ops.h"
#include "layers/layers.h"
#include "layers/resnet.h"
#include "layers/weights.h"
#include "support/datasets.h"
#include "support/images.h"

using namespace lumen;

namespace {

// u8 images (n, h, w, 3) with a pattern varied by seed.
Tensor images_of(int64_t n, int h, int w, int seed) {
  Tensor t = Tensor::empty({n, h, w, 3}, DType::u8);
  for (int64_t i = 0; i < n; ++i) {
    const std::vector<uint8_t> rgb = testing::smooth_rgb(w, h, seed + int(i));
    std::copy(rgb.begin(), rgb.end(), t.data<uint8_t>() + i * h * w * 3);
  }
  return t;
}

// The training path's embedding: resize, normalise, the module's eval forward.
Tensor eval_embedding(Module& backbone, const Tensor& images, int size) {
  const int64_t n = images.size(0), h = images.size(1), w = images.size(2);
  Tensor resized = Tensor::empty({n, size, size, 3}, DType::u8);
  for (int64_t i = 0; i < n; ++i) {
    data::resize_shorter_and_center_crop(images.data<uint8_t>() + i * h * w * 3, int(w), int(h),
                                         resized.data<uint8_t>() + i * size * size * 3, size);
  }
  NoGrad no_grad;
  backbone.eval();
  return backbone(normalize_images(resized, NormalizeConfig{}, DType::f32));
}

// conv 3x3 stride 2 -> BN -> ReLU -> global average pool: a backbone with no inference program.
class TinyCnn : public Module {
 public:
  TinyCnn() {
    conv_ = add_child("conv", std::make_unique<Conv2d>(3, 8, 3, 2, 1, false));
    bn_ = add_child("bn", std::make_unique<BatchNorm2d>(8));
    pool_ = add_child("pool", std::make_unique<GlobalAvgPool>());
  }
  Tensor forward(const Tensor& x) override { return (*pool_)(relu((*bn_)((*conv_)(x)))); }

 private:
  Conv2d* conv_;
  BatchNorm2d* bn_;
  GlobalAvgPool* pool_;
};
const Backbone kTiny{"tiny-cnn", 8, [] { return std::make_unique<TinyCnn>(); }};

// A tiny BYOL checkpoint (a method whose backbone sits beside momentum copies and two heads).
const std::string& byol_checkpoint() {
  static const std::string path = [] {
    const std::string dir = testing::temp_dir("embedder_byol");
    const std::string data = testing::write_cifar_batch(dir + "/data_batch_1.bin", 16, 4, 3);
    return train_embedding_model(train_config(
        {"method=byol", "input_dir=" + data, "output_dir=" + dir + "/run", "device=cpu",
         "model.name=resnet-9", "model.width=0.125", "collate.input_size=16", "loader.batch_size=8",
         "trainer.max_epochs=1", "seed=5"}));
  }();
  return path;
}

}  // namespace

TEST_CASE("a method's checkpoint and torchvision weights embed as the module's eval forward") {
  const std::string checkpoint = byol_checkpoint();
  const Embedder from_checkpoint(embed_config({"checkpoint=" + checkpoint, "device=cpu"}));
  CHECK(from_checkpoint.model_name() == "resnet-9");  // the checkpoint's own model and size
  CHECK(from_checkpoint.input_size() == 16);
  CHECK(from_checkpoint.inference_path());
  // The reference: the checkpoint's backbone loaded into a module, run by the training path.
  auto module = make_resnet("resnet-9", 0.125);
  ParameterBuffer params;
  finalize(*module, params, Device::cpu(), 0);
  load_backbone_weights(*module, checkpoint);
  for (auto [h, w] : {std::pair{16, 16}, std::pair{21, 30}}) {
    CAPTURE(w);
    const Tensor images = images_of(3, h, w, 1);
    testing::check_scaled(from_checkpoint.embed(images), eval_embedding(*module, images, 16), 1e-5,
                          "checkpoint");
  }
  // The same backbone as torchvision-format weights, named by model.name.
  testing::TempDir dir;
  save_backbone(*module, dir / "backbone.safetensors");
  const Embedder from_weights(
      embed_config({"checkpoint=" + dir / "backbone.safetensors", "model.name=resnet-9",
                    "model.width=0.125", "collate.input_size=16", "device=cpu"}));
  const Tensor images = images_of(4, 16, 16, 7);
  CHECK(from_weights.embed(images).to_doubles() == from_checkpoint.embed(images).to_doubles());
  CHECK(from_weights.embed(Tensor::empty({0, 16, 16, 3}, DType::u8)).shape() ==
        Shape{0, from_weights.dim()});
}

TEST_CASE("16 threads embedding at once get the results of one thread, bit for bit") {
  const Embedder resnet(embed_config(
      {"model.name=resnet-18", "model.width=0.25", "collate.input_size=24", "device=cpu"}));
  const Embedder custom(embed_config({"collate.input_size=20", "device=cpu"}), &kTiny);
  CHECK_FALSE(custom.inference_path());
  for (const Embedder* embedder : {&resnet, &custom}) {
    CAPTURE(embedder->model_name());
    constexpr int kThreads = 16, kCalls = 4;
    // Each call its own images and batch size (1 to 4), some needing a resize.
    std::vector<Tensor> inputs, expected;
    for (int i = 0; i < kThreads * kCalls; ++i) {
      inputs.push_back(images_of(1 + i % 4, i % 3 ? 24 : 30, 24, 100 + i));
      expected.push_back(embedder->embed(inputs.back()));
    }
    std::vector<Tensor> got(inputs.size());
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int c = 0; c < kCalls; ++c) {
          const size_t i = size_t(c * kThreads + t);
          got[i] = embedder->embed(inputs[i]);
        }
      });
    }
    for (std::thread& t : threads) t.join();
    for (size_t i = 0; i < inputs.size(); ++i) {
      CAPTURE(i);
      CHECK(got[i].to_doubles() == expected[i].to_doubles());
    }
  }
}

TEST_CASE("files and encoded bytes embed as `lumen embed` embeds the folder") {
  testing::TempDir dir;
  const std::string folder = dir / "images";
  std::map<std::string, std::vector<uint8_t>> files;
  files["a.png"] = testing::encode_png(40, 30, 2, 8, testing::smooth_rgb(40, 30, 1));
  files["b.jpg"] = testing::encode_jpeg_rgb(33, 51, testing::smooth_rgb(33, 51, 2));
  files["c.bmp"] = testing::encode_bmp(24, 24, testing::smooth_rgb(24, 24, 3));
  std::vector<std::string> paths;
  std::vector<std::string_view> bytes;
  for (const auto& [name, content] : files) {
    testing::write_file(folder + "/" + name, content);
    paths.push_back(folder + "/" + name);
    bytes.emplace_back(reinterpret_cast<const char*>(content.data()), content.size());
  }
  const std::vector<std::string> args = {"model.name=resnet-9", "model.width=0.25",
                                         "collate.input_size=24", "device=cpu", "seed=3"};
  const Embedder embedder(embed_config(args));
  const Tensor from_files = embedder.embed_files(paths);
  CHECK(embedder.embed_encoded(bytes).to_doubles() == from_files.to_doubles());
  // lumen embed: the folder decoded into its cache at collate.input_size, then embedded.
  std::vector<std::string> embed_args = args;
  embed_args.push_back("input_dir=" + folder);
  const Embeddings e = embed_images(embed_config(embed_args));
  REQUIRE(e.filenames.size() == files.size());
  for (size_t i = 0; i < paths.size(); ++i) {
    CAPTURE(e.filenames[i]);
    const size_t row = size_t(std::find(e.filenames.begin(), e.filenames.end(),
                                        std::filesystem::path(paths[i]).filename().string()) -
                              e.filenames.begin());
    REQUIRE(row < e.filenames.size());
    testing::check_scaled(from_files.rows(int64_t(i), 1), e.values.rows(int64_t(row), 1), 1e-5,
                          "embed_files against lumen embed");
  }
  // One image prepared by hand and embedded as decoded pixels (alone: the batch's size may pick
  // another convolution algorithm for small layers, a difference of rounding only).
  const Tensor one = embedder.prepare(bytes[0]);
  CHECK(one.shape() == Shape{24, 24, 3});
  testing::check_scaled(embedder.embed(one.reshape({1, 24, 24, 3})), from_files.rows(0, 1), 1e-5,
                        "prepared");
}

TEST_CASE("bad images are errors that name the image and the reason") {
  EmbedderSettings settings;
  settings.limits.max_file_bytes = 4096;
  const Embedder embedder(embed_config({"model.name=resnet-9", "model.width=0.25",
                                        "collate.input_size=16", "device=cpu"}),
                          nullptr, settings);
  const std::vector<uint8_t> png = testing::encode_png(8, 8, 2, 8, testing::smooth_rgb(8, 8, 1));
  const std::string good(png.begin(), png.end());
  const std::string truncated = good.substr(0, good.size() / 2);
  const std::string huge(5000, 'x');
  CHECK_THROWS_WITH_AS(embedder.embed_encoded({good, "hello, world"}),
                       doctest::Contains("image 1: not a JPEG, PNG"), Error);
  CHECK_THROWS_WITH_AS(embedder.embed_encoded({good, good, ""}), doctest::Contains("image 2"),
                       Error);
  CHECK_THROWS_WITH_AS(embedder.embed_encoded({truncated}), doctest::Contains("image 0"), Error);
  CHECK_THROWS_WITH_AS(embedder.prepare(huge), doctest::Contains("more than the 4096 allowed"),
                       Error);
  CHECK_THROWS_WITH_AS(embedder.embed_files({"/nonexistent/x.png"}),
                       doctest::Contains("'/nonexistent/x.png'"), Error);
  CHECK_THROWS_WITH_AS(embedder.embed(Tensor::zeros({2, 8, 8, 3})),
                       doctest::Contains("(N, H, W, 3) u8"), Error);
  CHECK(embedder.embed_encoded({good}).shape() == Shape{1, embedder.dim()});  // still serving
}

TEST_CASE("an embedder made from a live module keeps the weights it was made with") {
  for (const Backbone& architecture : {resnet_backbone("resnet-9", 0.25), kTiny}) {
    CAPTURE(architecture.name);
    std::unique_ptr<Module> module = architecture.make();
    ParameterBuffer params;
    finalize(*module, params, Device::cpu(), 4);
    module->train();  // as during training: the embedder must not need eval mode on it
    const Embedder embedder(*module, architecture, 16, Device::cpu(), DType::f32);
    CHECK(module->training());
    const Tensor images = images_of(3, 16, 16, 9);
    const Tensor expected = eval_embedding(*module, images, 16);
    Tensor values = params.values();
    values.fill(0.25);  // a later training step
    testing::check_scaled(embedder.embed(images), expected, 1e-5, "snapshot");
  }
}
