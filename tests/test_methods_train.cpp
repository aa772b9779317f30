// Every method of the table through the API, on a small synthetic CIFAR-format file: it trains
// (loss finite), a run stopped inside an epoch resumes to the weights of an uninterrupted one bit
// for bit (target networks, banks and their positions included), and embed / knn work on its
// checkpoint through the backbone prefix.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/testing.h"

#include <filesystem>

#include "api/lumen.h"
#include "api/methods.h"
#include "api/model_io.h"
#include "api/train_config.h"
#include "engine/io/safetensors.h"
#include "engine/train/trainer.h"
#include "support/datasets.h"

using namespace lumen;

namespace {

// SwaV and DINO: 16 px high-resolution / global crops and two 8 px ones, small heads; SwaV with
// its queues from epoch 2 on, DINO with its last layer frozen for the whole run and a teacher
// temperature warm-up, so that a resume inside epoch 2 must restore all of them.
std::vector<std::string> multi_crop_recipe(const std::string& method) {
  if (method == "swav") {
    return {"collate.crop_sizes=16,8", "collate.crop_counts=2,2", "model.n_prototypes=24",
            "method.queue_length=20", "method.start_queue_at_epoch=1"};
  }
  if (method == "dino") {
    return {"collate.global_crop_size=16",
            "collate.local_crop_size=8",
            "collate.n_local_views=2",
            "model.bottleneck_dim=8",
            "model.freeze_last_layer=2",
            "criterion.warmup_teacher_temp=0.02",
            "criterion.warmup_teacher_temp_epochs=2"};
  }
  return {};
}

// The tiny recipe, with the method's head sizes and banks made small where it has those keys.
std::vector<std::string> recipe(const std::string& method, const std::string& data,
                                const std::string& out) {
  std::vector<std::string> args = {"method=" + method,           "input_dir=" + data,
                                   "output_dir=" + out,          "device=cpu",
                                   "model.name=resnet-9",        "model.width=0.125",
                                   "loader.batch_size=16",       "trainer.max_epochs=2",
                                   "trainer.checkpoint_every=1", "seed=3"};
  Config schema(train_config_schema(method));
  const std::vector<std::pair<const char*, const char*>> small = {
      {"model.hidden_dim", "32"},
      {"model.out_dim", "16"},
      {"model.prediction_hidden_dim", "32"},
      {"criterion.memory_bank_size", "40"}};
  for (const auto& [key, value] : small) {
    if (schema.has(key)) args.push_back(std::string(key) + "=" + value);
  }
  for (const std::string& a : multi_crop_recipe(method)) args.push_back(a);
  if (schema.has("collate.input_size")) args.push_back("collate.input_size=16");
  return args;
}

void check_same_tensors(const std::string& a_path, const std::string& b_path) {
  SafetensorsFile a = load_safetensors(a_path), b = load_safetensors(b_path);
  REQUIRE(a.tensors.size() == b.tensors.size());
  for (const auto& [name, t] : a.tensors) {
    CAPTURE(name);
    REQUIRE(b.tensors.count(name) == 1);
    CHECK(b.tensors.at(name).to_doubles() == t.to_doubles());
  }
}

// Trains `method` (with `extra` arguments) straight and stopped after the first step of epoch 2
// then resumed: the same weights bit for bit; embed and knn read the checkpoint. Returns it.
SafetensorsFile check_trains_resumes_embeds(const std::string& method, const std::string& data,
                                            const std::string& out,
                                            const std::vector<std::string>& extra = {}) {
  auto args = [&](const std::string& run) {
    std::vector<std::string> a = recipe(method, data, run);
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  const std::string straight = train_embedding_model(train_config(args(out + "/a")));
  SafetensorsFile checkpoint = load_safetensors(straight);
  CHECK(checkpoint.metadata.at("method") == method);
  CHECK(checkpoint.tensors.count("backbone.layer1.0.conv1.weight") == 1);

  // 3 steps an epoch: stop after the first step of epoch 2, then resume.
  std::vector<std::string> first = args(out + "/b");
  first.push_back("trainer.max_steps=4");
  train_embedding_model(train_config(first));
  std::vector<std::string> rest = args(out + "/b");
  rest.push_back("resume=true");
  check_same_tensors(straight, train_embedding_model(train_config(rest)));

  const Embeddings e =
      embed_images(embed_config({"input_dir=" + data, "checkpoint=" + straight, "device=cpu"}));
  CHECK(e.values.shape() == Shape{48, 64});  // resnet-9 at width 0.125: 64 features
  const KnnResult knn = knn_evaluate(knn_config(
      {"train_dir=" + data, "test_dir=" + data, "checkpoint=" + straight, "device=cpu"}));
  CHECK(knn.top1 >= 0.0);
  CHECK(knn.top1 <= 1.0);
  return checkpoint;
}

}  // namespace

TEST_CASE("every method trains, resumes bit for bit inside an epoch, and embeds") {
  const std::string dir = testing::temp_dir("methods_train");
  const std::string data = testing::write_cifar_batch(dir + "/data_batch_1.bin", 48, 4, 1);
  for (const MethodEntry& method : method_table()) {
    CAPTURE(method.name);
    const SafetensorsFile checkpoint =
        check_trains_resumes_embeds(method.name, data, dir + "/" + method.name);
    if (method.name == "mocov2" || method.name == "byol") {
      CHECK(checkpoint.tensors.count("backbone_momentum.layer1.0.conv1.weight") == 1);
      CHECK(checkpoint.tensors.count("projection_head_momentum.layers.0.weight") == 1);
    }
    if (method.name == "mocov2") CHECK(checkpoint.tensors.count("criterion.memory_bank") == 1);
    if (method.name == "nnclr") CHECK(checkpoint.tensors.count("memory_bank.bank") == 1);
    if (method.name == "swav") {
      CHECK(checkpoint.tensors.count("prototypes.heads.0.weight") == 1);
      CHECK(checkpoint.tensors.count("queues.1.bank") == 1);
      CHECK(checkpoint.tensors.count("queues.1.pointer") == 1);
    }
    if (method.name == "dino") {
      CHECK(checkpoint.tensors.count("teacher_backbone.layer1.0.conv1.weight") == 1);
      CHECK(checkpoint.tensors.count("teacher_head.last_layer.weight_v") == 1);
      CHECK(checkpoint.tensors.count("criterion.center") == 1);
      // frozen for the whole run: the student's last layer is as after epoch 1, the rest moved
      const SafetensorsFile epoch1 =
          load_safetensors(dir + "/" + method.name + "/a/checkpoints/epoch_0001.safetensors");
      CHECK(checkpoint.tensors.at("head.last_layer.weight_v").to_doubles() ==
            epoch1.tensors.at("head.last_layer.weight_v").to_doubles());
      CHECK(checkpoint.tensors.at("head.layers.0.weight").to_doubles() !=
            epoch1.tensors.at("head.layers.0.weight").to_doubles());
    }
    // embed and knn take the size the run trained at: the largest view (16 px here).
    CHECK(trained_input_size(checkpoint_config(checkpoint)) == 16);
  }
  std::filesystem::remove_all(dir);
}

// Barlow Twins' second wiring: LARS with batch norm and biases in a group of their own rate.
TEST_CASE("barlowtwins with optimizer.name=lars trains, resumes bit for bit, and embeds") {
  const std::string dir = testing::temp_dir("methods_train_lars");
  const std::string data = testing::write_cifar_batch(dir + "/data_batch_1.bin", 48, 4, 1);
  const SafetensorsFile checkpoint =
      check_trains_resumes_embeds("barlowtwins", data, dir, {"optimizer.name=lars"});
  // The run recorded the numbers of the LARS wiring: 0.2 x 16/256, weight decay 1.5e-6, the
  // 10 warm-up epochs cut to a tenth of the 2-epoch run.
  const std::string config = checkpoint.metadata.at("config");
  CHECK(config.find("optimizer.lr=0.0125\n") != std::string::npos);
  CHECK(config.find("optimizer.weight_decay=1.5e-06\n") != std::string::npos);
  CHECK(config.find("scheduler.warmup_epochs=0.2\n") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a method's keys and defaults; a key of another method is an error naming it") {
  CHECK(train_config({"method=mocov2"}).get_float("criterion.temperature") == 0.1);
  CHECK(train_config({"method=mocov2"}).get_int("criterion.memory_bank_size") == 4096);
  CHECK(train_config({"method=byol"}).get_int("model.out_dim") == 256);
  CHECK(train_config({"method=byol"}).get_float("collate.view_1.gaussian_blur") == 1.0);
  CHECK(train_config({"method=byol"}).get_float("collate.view_2.solarization_prob") == 0.2);
  CHECK(train_config({"method=simsiam"}).get_int("model.prediction_hidden_dim") == 512);
  CHECK(train_config({"method=nnclr"}).get_int("criterion.memory_bank_size") == 4096);
  CHECK(train_config({"method=dclw"}).get_float("criterion.sigma") == 0.5);
  CHECK_THROWS_WITH_AS(train_config({"method=simclr", "criterion.sigma=0.3"}),
                       doctest::Contains("criterion.sigma is not a key of method=simclr (it "
                                         "belongs to dclw)"),
                       Error);
  CHECK_THROWS_WITH_AS(train_config({"method=byol", "criterion.temperature=0.2"}),
                       doctest::Contains("it belongs to simclr, mocov2, nnclr, dcl, dclw"), Error);
  CHECK(train_config({"method=swav"}).get_int("model.n_prototypes") == 512);
  CHECK(train_config({"method=swav"}).get_float("criterion.sinkhorn_epsilon") == 0.05);
  CHECK(train_config({"method=dino"}).get_int("model.out_dim") == 2048);
  CHECK(train_config({"method=dino"}).get_float("method.momentum") == 0.996);
  CHECK(train_config({"method=dino"}).get_string("method.momentum_schedule") == "cosine");
  // SwaV trains with Adam as lightly's benchmark: 1e-3 x batch / 128, weight decay 1e-6.
  CHECK(optimizer_wiring(find_method("swav"), "", 512).optimizer == "adam");
  CHECK(optimizer_wiring(find_method("swav"), "", 512).lr == doctest::Approx(4e-3));
  CHECK(optimizer_wiring(find_method("swav"), "", 512).weight_decay == 1e-6);
  // SimSiam's learning rate is not scaled with the batch; the others' is.
  CHECK(optimizer_wiring(find_method("simsiam"), "", 512).lr == 0.06);
  CHECK(optimizer_wiring(find_method("byol"), "", 512).lr == doctest::Approx(0.24));
  // Barlow Twins and VICReg: lightly's heads, losses and views; their optimizer wirings.
  const Config bt = train_config({"method=barlowtwins"});
  CHECK(bt.get_int("model.hidden_dim") == 2048);
  CHECK(bt.get_int("model.out_dim") == 2048);
  CHECK(bt.get_float("criterion.lambda_param") == 5e-3);
  CHECK(bt.get_float("collate.view_1.gaussian_blur") == 1.0);  // BYOL's views
  CHECK(bt.get_float("collate.view_2.solarization_prob") == 0.2);
  CHECK(bt.get_string("optimizer.name") == "sgd");
  const OptimizerWiring bt_lars = optimizer_wiring(find_method("barlowtwins"), "lars", 512);
  CHECK(bt_lars.lr == doctest::Approx(0.4));
  CHECK(bt_lars.lr * bt_lars.no_decay_lr_scale == doctest::Approx(0.0048 * 2));
  CHECK(bt_lars.weight_decay == 1.5e-6);
  CHECK(bt_lars.warmup_epochs == 10);
  const Config vicreg = train_config({"method=vicreg"});
  CHECK(vicreg.get_int("model.num_layers") == 2);
  CHECK(vicreg.get_float("criterion.lambda_param") == 25);
  CHECK(vicreg.get_float("criterion.mu_param") == 25);
  CHECK(vicreg.get_float("criterion.nu_param") == 1);
  CHECK(vicreg.get_float("criterion.eps") == 1e-4);
  CHECK(vicreg.get_float("collate.cj_strength") == 0.5);
  CHECK(vicreg.get_float("collate.solarization_prob") == 0.1);
  CHECK(vicreg.get_string("optimizer.name") == "lars");
  const OptimizerWiring v = optimizer_wiring(find_method("vicreg"), "", 512);
  CHECK(v.lr == doctest::Approx(0.4));
  CHECK(v.no_decay_lr_scale == 1);
  CHECK(v.weight_decay == 1e-6);
  CHECK(v.end_value == 0.01);
}

TEST_CASE(
    "resume: the same folder written another way is accepted; a refused resume touches "
    "nothing and names the values the run used") {
  namespace fs = std::filesystem;
  const std::string dir = testing::temp_dir("methods_resume_paths");
  fs::create_directories(dir + "/images/a");
  fs::create_directories(dir + "/images/b");
  // An image folder (so that the run has an image cache): 32 small PPM files in two classes.
  for (int i = 0; i < 32; ++i) {
    std::FILE* f = std::fopen(
        (dir + "/images/" + (i % 2 ? "b/" : "a/") + std::to_string(i) + ".ppm").c_str(), "wb");
    REQUIRE(f != nullptr);
    std::fprintf(f, "P6 4 4 255\n");
    for (int p = 0; p < 16 * 3; ++p) std::fputc((i * 37 + p * (i % 2 ? 5 : 11)) % 256, f);
    std::fclose(f);
  }
  std::vector<std::string> args = recipe("simclr", dir + "/images", dir + "/run");
  args.push_back("trainer.max_steps=1");
  train_embedding_model(train_config(args));
  // The same folder as "./.../images/" from another working directory: accepted.
  std::vector<std::string> again = recipe("simclr", dir + "/./images/", dir + "/run");
  again.push_back("resume=true");
  CHECK_NOTHROW(train_embedding_model(train_config(again)));

  // A refused resume (another batch size and view size) builds no cache for the new size and
  // leaves the run's own as it was; it names the learning rate the run used (derived from the
  // batch size), not "unset".
  auto cache_files = [&] {
    std::vector<std::pair<std::string, fs::file_time_type>> files;
    for (const auto& e : fs::directory_iterator(dir + "/run/cache")) {
      files.emplace_back(e.path().string(), fs::last_write_time(e.path()));
    }
    return files;
  };
  const auto before = cache_files();
  REQUIRE(before.size() == 1);
  std::vector<std::string> changed = recipe("simclr", dir + "/images", dir + "/run");
  changed.push_back("resume=true");
  changed.push_back("loader.batch_size=8");
  changed.push_back("collate.input_size=24");
  CHECK_THROWS_WITH_AS(train_embedding_model(train_config(changed)),
                       doctest::Contains("optimizer.lr=0.0075 (now 0.00375)"), Error);
  CHECK(cache_files() == before);
  fs::remove_all(dir);
}
