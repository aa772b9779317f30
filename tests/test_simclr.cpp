// SimCLR end to end on a small synthetic CIFAR-format file: the API trains, checkpoints, resumes
// to the weights of an uninterrupted run, embeds as lightly's CSV; the CLI's key errors.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/testing.h"

#include <filesystem>
#include <fstream>

#include "api/lumen.h"
#include "engine/io/safetensors.h"
#include "support/datasets.h"

using namespace lumen;

namespace {
std::vector<std::string> tiny_recipe(const std::string& data, const std::string& out, int epochs) {
  return {"input_dir=" + data,
          "output_dir=" + out,
          "device=cpu",
          "model.name=resnet-9",
          "model.width=0.125",
          "model.out_dim=16",
          "collate.input_size=16",
          "collate.gaussian_blur=0",
          "loader.batch_size=16",
          "trainer.max_epochs=" + std::to_string(epochs),
          "trainer.checkpoint_every=1",
          "seed=3"};
}
}  // namespace

TEST_CASE("train, resume to the same weights, embed") {
  const std::string dir = testing::temp_dir("simclr");
  const std::string data = testing::write_cifar_batch(dir + "/data_batch_1.bin", 48, 4, 1);

  const std::string straight =
      train_embedding_model(train_config(tiny_recipe(data, dir + "/a", 2)));
  // A run stopped after its first epoch: its checkpoint is the one the straight run wrote then.
  // Its config says weight decay 5e-4 as runs before derived settings wrote it (now "0.0005"):
  // the same number, so the resume goes on.
  std::filesystem::create_directories(dir + "/b/checkpoints");
  SafetensorsFile first = load_safetensors(dir + "/a/checkpoints/epoch_0001.safetensors");
  std::string& config = first.metadata.at("config");
  const std::string derived = "optimizer.weight_decay=0.0005\n";
  REQUIRE(config.find(derived) != std::string::npos);
  config.replace(config.find(derived), derived.size(), "optimizer.weight_decay=5e-4\n");
  save_safetensors(dir + "/b/checkpoints/last.safetensors", first.tensors, first.metadata);
  std::vector<std::string> resume = tiny_recipe(data, dir + "/b", 2);
  resume.push_back("resume=true");
  const std::string resumed = train_embedding_model(train_config(resume));

  SafetensorsFile a = load_safetensors(straight), b = load_safetensors(resumed);
  REQUIRE(a.tensors.size() == b.tensors.size());
  for (const auto& [name, t] : a.tensors) {
    CAPTURE(name);
    CHECK(b.tensors.at(name).to_doubles() == t.to_doubles());
  }
  CHECK(a.tensors.count("backbone.layer4.0.conv1.weight") == 1);   // torchvision names
  CHECK(a.tensors.count("projection_head.layers.0.weight") == 1);  // lightly's names
  CHECK(a.metadata.at("backbone_prefix") == "backbone.");
  CHECK(a.tensors.count("optimizer.momentum_buffer") == 1);

  Embeddings e = embed_images(embed_config(
      {"input_dir=" + data, "checkpoint=" + straight, "device=cpu", "collate.input_size=16"}));
  CHECK(e.values.shape() == Shape{48, 64});  // resnet-9 at width 0.125: 512 / 8 features
  CHECK(e.labels[5] == 1);
  CHECK(e.filenames[0] == "train/00000.png");
  // Without collate.input_size the checkpoint's own (16, not the default 224) is used.
  Embeddings same =
      embed_images(embed_config({"input_dir=" + data, "checkpoint=" + straight, "device=cpu"}));
  CHECK(same.values.to_doubles() == e.values.to_doubles());

  // Resuming with settings that change the run's path is refused, naming the key.
  std::vector<std::string> changed = tiny_recipe(data, dir + "/b", 3);
  changed.push_back("resume=true");
  changed.push_back("optimizer.weight_decay=0.01");
  CHECK_THROWS_WITH_AS(train_embedding_model(train_config(changed)),
                       doctest::Contains("optimizer.weight_decay=0.0005 (now 0.01)"), Error);
  std::filesystem::remove_all(dir);
}

TEST_CASE("config errors name the key and suggest another") {
  CHECK_THROWS_WITH_AS(train_config({"loader.batchsize=4"}),
                       doctest::Contains("did you mean 'loader.batch_size'"), Error);
  CHECK_THROWS_WITH_AS(train_config({"loader.num_workers=-7"}),
                       doctest::Contains("loader.num_workers: it must be at least -1"), Error);
  CHECK_THROWS_WITH_AS(train_config({"data.limit=-5"}),
                       doctest::Contains("data.limit: it must be at least 0"), Error);
  CHECK_THROWS_WITH_AS(train_embedding_model(train_config({"device=cpu"})),
                       doctest::Contains("missing input_dir"), Error);
  CHECK_THROWS_WITH_AS(
      train_embedding_model(train_config({"input_dir=/nonexistent/images", "device=cpu"})),
      doctest::Contains("does not exist"), Error);
}

TEST_CASE("kNN monitoring writes its accuracy to the metrics every N epochs") {
  const std::string dir = testing::temp_dir("simclr_knn");
  const std::string data = testing::write_cifar_batch(dir + "/data_batch_1.bin", 32, 4, 5);
  std::vector<std::string> args = tiny_recipe(data, dir + "/run", 2);
  args.push_back("trainer.knn_every=2");
  args.push_back("val_dir=" + data);
  train_embedding_model(train_config(args));
  std::ifstream metrics(dir + "/run/metrics.jsonl");
  std::vector<std::string> knn_lines;
  for (std::string line; std::getline(metrics, line);) {
    if (line.find("knn_top1") != std::string::npos) knn_lines.push_back(line);
  }
  REQUIRE(knn_lines.size() == 1);  // epoch 2 only
  CHECK(knn_lines[0].find("\"epoch\": 2") != std::string::npos);

  // A bank with one class cannot vote: refused before any training.
  const std::string flat = testing::write_cifar_batch(dir + "/flat.bin", 32, 1, 5);
  args = tiny_recipe(flat, dir + "/flat_run", 1);
  args.push_back("trainer.knn_every=1");
  args.push_back("val_dir=" + data);
  CHECK_THROWS_WITH_AS(train_embedding_model(train_config(args)),
                       doctest::Contains("all its images have one label"), Error);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a run stopped inside an epoch resumes to the same weights: memory bank, AdamW, LARS") {
  const std::string dir = testing::temp_dir("simclr_mid_epoch");
  const std::string data = testing::write_cifar_batch(dir + "/data_batch_1.bin", 48, 4, 7);
  for (const char* optimizer : {"adamw", "lars"}) {
    CAPTURE(optimizer);
    const std::string name = optimizer;
    std::vector<std::string> args = tiny_recipe(data, dir + "/straight_" + name, 2);
    args.push_back("criterion.memory_bank_size=32");
    args.push_back("optimizer.name=" + name);
    args.push_back("scheduler.warmup_epochs=0.5");
    const std::string straight = train_embedding_model(train_config(args));

    args[1] = "output_dir=" + dir + "/stopped_" + name;
    std::vector<std::string> first = args;
    first.push_back("trainer.max_steps=4");  // epoch 2 (3 steps each), after its first step
    train_embedding_model(train_config(first));
    SafetensorsFile stopped =
        load_safetensors(dir + "/stopped_" + name + "/checkpoints/last.safetensors");
    CHECK(stopped.metadata.at("step_in_epoch") == "1");
    std::vector<std::string> rest = args;
    rest.push_back("resume=true");
    const std::string resumed = train_embedding_model(train_config(rest));

    SafetensorsFile a = load_safetensors(straight), b = load_safetensors(resumed);
    REQUIRE(a.tensors.size() == b.tensors.size());
    CHECK(a.tensors.count("criterion.memory_bank") == 1);
    for (const auto& [tensor, t] : a.tensors) {
      CAPTURE(tensor);
      CHECK(b.tensors.at(tensor).to_doubles() == t.to_doubles());
    }
  }
  std::filesystem::remove_all(dir);
}
