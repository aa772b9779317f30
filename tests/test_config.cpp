// key=value configuration: parsing, defaults, and errors that name the key and suggest another.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/datasets.h"
#include "support/testing.h"

#include <filesystem>
#include <set>

#include "api/lumen.h"
#include "api/methods.h"
#include "api/train_config.h"
#include "api/train_options.h"

using namespace lumen;

TEST_CASE("defaults follow lightly's SimCLR recipe and explicit values win") {
  Config cfg(train_config_schema());
  CHECK(cfg.get_string("optimizer.name") == "sgd");
  CHECK(cfg.get_float("optimizer.momentum") == 0.9);
  CHECK(cfg.get_float("criterion.temperature") == 0.5);
  CHECK(cfg.get_string("scheduler.name") == "cosine");
  CHECK(cfg.get_pair("collate.sigmas") == std::pair<double, double>(0.1, 2.0));
  const OptimizerWiring simclr = optimizer_wiring(find_method("simclr"), "", 512);
  CHECK(simclr.optimizer == "sgd");
  CHECK(simclr.lr == doctest::Approx(0.24));
  CHECK(simclr.weight_decay == 5e-4);
  CHECK(simclr.warmup_epochs == 0);
  CHECK(simclr.end_value == 0.001);
  CHECK_FALSE(cfg.is_set("optimizer.lr"));
  cfg.parse_args({"loader.batch_size=512", "optimizer.lr=0.3", "resume=true",
                  "collate.sigmas=(0.2, 1.5)", "loader.batch_size=64"});
  CHECK(cfg.get_int("loader.batch_size") == 64);
  CHECK(cfg.get_float("optimizer.lr") == 0.3);
  CHECK(cfg.get_bool("resume"));
  CHECK(cfg.get_pair("collate.sigmas") == std::pair<double, double>(0.2, 1.5));
  CHECK(cfg.serialize().find("loader.batch_size=64\n") != std::string::npos);
}

TEST_CASE("the method's optimizer wiring fills the optimizer and schedule keys not given") {
  const std::string dir = testing::temp_dir("config_wiring");
  auto options = [&](std::vector<std::string> args) {
    args.push_back("input_dir=" + dir);
    args.push_back("output_dir=" + dir + "/out");
    args.push_back("device=cpu");
    args.push_back("loader.batch_size=64");
    return read_train_options(train_config(args));
  };
  // SimCLR's one wiring (SGD 0.06 x batch/128) with another optimizer keeps its numbers.
  TrainOptions o = options({"trainer.max_epochs=50"});
  CHECK(o.optimizer.name == "sgd");
  CHECK(o.optimizer.lr == doctest::Approx(0.03));
  CHECK(o.optimizer.weight_decay == 5e-4);
  CHECK(o.optimizer.no_decay_lr_scale == 1);
  CHECK(o.schedule.warmup_epochs == 0);
  CHECK(o.schedule.end_value == 0.001);
  o = options({"optimizer.name=lars", "optimizer.weight_decay=1e-6", "scheduler.end_value=0.01",
               "scheduler.warmup_epochs=3"});
  CHECK(o.optimizer.name == "lars");
  CHECK(o.optimizer.lr == doctest::Approx(0.03));
  CHECK(o.optimizer.weight_decay == 1e-6);
  CHECK(o.schedule.warmup_epochs == 3);
  CHECK(o.schedule.end_value == 0.01);
  // The derived numbers are in the config a checkpoint keeps.
  CHECK(o.trainer.config_text.find("optimizer.weight_decay=1e-06\n") != std::string::npos);
  o = options({});
  CHECK(o.trainer.config_text.find("optimizer.weight_decay=0.0005\n") != std::string::npos);
  CHECK(o.trainer.config_text.find("scheduler.end_value=0.001\n") != std::string::npos);
}

TEST_CASE("optimizer.name picks the method's wiring for it, its lr scaled with the batch") {
  MethodEntry method = find_method("simclr");
  OptimizerWiring lars;
  lars.optimizer = "lars";
  lars.lr = 0.2;
  lars.lr_batch = 256;
  lars.weight_decay = 1.5e-6;
  lars.no_decay_lr_scale = 0.024;
  lars.warmup_epochs = 10;
  method.wirings.push_back(lars);
  const OptimizerWiring picked = optimizer_wiring(method, "lars", 512);
  CHECK(picked.lr == doctest::Approx(0.4));
  CHECK(picked.no_decay_lr_scale == 0.024);
  CHECK(optimizer_wiring(method, "", 512).optimizer == "sgd");
  CHECK(optimizer_wiring(method, "adamw", 128).lr == doctest::Approx(0.06));
  CHECK(describe_wirings(method) ==
        "sgd: lr 0.06 x batch/128, weight decay 0.0005; lars: lr 0.2 x batch/256, weight decay "
        "1.5e-06, lr x 0.024 on batch norm and biases, 10 warm-up epochs");
}

TEST_CASE("unknown keys are errors that suggest the nearest key") {
  Config cfg(train_config_schema());
  CHECK_THROWS_WITH_AS(cfg.set("optimzer.lr", "1"),
                       doctest::Contains("did you mean 'optimizer.lr'"), Error);
  CHECK_THROWS_WITH_AS(cfg.set("batch_size", "1"),
                       doctest::Contains("did you mean 'loader.batch_size'"), Error);
  CHECK_THROWS_WITH_AS(cfg.set("zzzzzzzzzzzz", "1"), doctest::Contains("--help lists"), Error);
  CHECK_THROWS_WITH_AS(cfg.parse_args({"loader.batch_size"}),
                       doctest::Contains("not of the form key=value"), Error);
}

TEST_CASE("bad values are errors that say what is expected") {
  Config cfg(train_config_schema());
  CHECK_THROWS_WITH_AS(cfg.set("loader.batch_size", "big"), doctest::Contains("an integer"), Error);
  CHECK_THROWS_WITH_AS(cfg.set("optimizer.lr", "1e"), doctest::Contains("a number"), Error);
  CHECK_THROWS_WITH_AS(cfg.set("resume", "maybe"), doctest::Contains("true or false"), Error);
  CHECK_THROWS_WITH_AS(cfg.set("optimizer.name", "sdg"), doctest::Contains("did you mean 'sgd'"),
                       Error);
  CHECK_THROWS_WITH_AS(cfg.set("collate.sigmas", "0.1"), doctest::Contains("pair"), Error);
  CHECK_THROWS_WITH_AS(cfg.require("input_dir"), doctest::Contains("missing input_dir"), Error);
}

TEST_CASE("help lists every key with its default") {
  Config cfg(train_config_schema());
  const std::string help = cfg.help();
  for (const ConfigKey& k : cfg.schema()) {
    CAPTURE(k.name);
    // Per-view keys (collate.view_N.*) are one family, described by `lumen train --help`.
    CHECK((help.find(k.name + " ") != std::string::npos) == k.in_help);
  }
  CHECK(help.find("[default 0.5]") != std::string::npos);
}

TEST_CASE("each key says whether a resume may change it") {
  Config cfg(train_config_schema());
  const std::set<std::string> free = cfg.resume_may_change();
  for (const char* key : {"device", "loader.num_workers", "trainer.max_epochs", "trainer.max_steps",
                          "output_dir", "resume", "val_dir", "trainer.cuda_graph"}) {
    CAPTURE(key);
    CHECK(free.count(key) == 1);
  }
  for (const char* key : {"seed", "input_dir", "optimizer.lr", "loader.batch_size",
                          "criterion.temperature", "collate.cj_prob", "collate.view_2.hf_prob"}) {
    CAPTURE(key);
    CHECK(free.count(key) == 0);
  }
}

TEST_CASE("path keys: an empty value is an error, checkpoints record canonical paths") {
  Config cfg(train_config_schema());
  CHECK_THROWS_WITH_AS(cfg.set("output_dir", ""), doctest::Contains("output_dir= is empty"), Error);
  CHECK_THROWS_WITH_AS(cfg.set("input_dir", ""), doctest::Contains("input_dir= is empty"), Error);
  const std::string dir = testing::temp_dir("config_paths");
  Config a(train_config_schema()), b(train_config_schema());
  a.set("input_dir", dir + "/");
  b.set("input_dir", dir + "/./sub/..");
  std::filesystem::create_directories(dir + "/sub");
  CHECK(a.serialize() == b.serialize());
  CHECK(a.serialize().find("input_dir=" + std::filesystem::canonical(dir).string() + "\n") !=
        std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("per-view collate keys: collate.KEY on every view, collate.view_N.KEY on view N") {
  // BYOL-like asymmetric defaults are the preset's; SimCLR's views are equal.
  Config cfg(train_config_schema());
  CHECK(cfg.get_float("collate.view_1.gaussian_blur") == 0.5);
  cfg.parse_args({"collate.gaussian_blur=0.3", "collate.view_2.gaussian_blur=0.1",
                  "collate.view_1.hf_prob=0", "collate.input_size=32"});
  const TransformConfig t = views_from_config(cfg, simclr_transform());
  REQUIRE(t.views.size() == 2);
  CHECK(t.views[0].gaussian_blur == doctest::Approx(0.3));
  CHECK(t.views[1].gaussian_blur == doctest::Approx(0.1));
  CHECK(t.views[0].hf_prob == 0.0f);
  CHECK(t.views[1].hf_prob == doctest::Approx(0.5));
  CHECK(t.views[0].input_size == 32);
  CHECK(t.views[1].input_size == 32);
  CHECK_THROWS_WITH_AS(cfg.set("collate.view_3.hf_prob", "0"), doctest::Contains("unknown key"),
                       Error);
  cfg.set("collate.view_1.cj_prob", "1.5");
  CHECK_THROWS_WITH_AS(views_from_config(cfg, simclr_transform()),
                       doctest::Contains("cj_prob = 1.5 is not a probability"), Error);
}

TEST_CASE("a method's keys: defaults per method, a key of another method names its owner") {
  CHECK_THROWS_WITH_AS(train_config({"method=simcrl"}), doctest::Contains("did you mean 'simclr'"),
                       Error);
  Config simclr = train_config({"method=simclr"});
  CHECK(simclr.get_float("criterion.temperature") == 0.5);
  CHECK(simclr.get_int("model.out_dim") == 128);
}
