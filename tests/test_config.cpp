// key=value configuration: parsing, defaults, and errors that name the key and suggest another.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/testing.h"

#include "api/methods.h"
#include "api/train_config.h"

using namespace lumen;

TEST_CASE("defaults follow lightly's SimCLR recipe and explicit values win") {
  Config cfg(train_config_schema());
  CHECK(cfg.get_string("optimizer.name") == "sgd");
  CHECK(cfg.get_float("optimizer.momentum") == 0.9);
  CHECK(cfg.get_float("optimizer.weight_decay") == 5e-4);
  CHECK(cfg.get_float("criterion.temperature") == 0.5);
  CHECK(cfg.get_string("scheduler.name") == "cosine");
  CHECK(cfg.get_pair("collate.sigmas") == std::pair<double, double>(0.1, 2.0));
  CHECK(default_learning_rate(find_method("simclr"), 512) == doctest::Approx(0.24));
  CHECK_FALSE(cfg.is_set("optimizer.lr"));
  cfg.parse_args({"loader.batch_size=512", "optimizer.lr=0.3", "resume=true",
                  "collate.sigmas=(0.2, 1.5)", "loader.batch_size=64"});
  CHECK(cfg.get_int("loader.batch_size") == 64);
  CHECK(cfg.get_float("optimizer.lr") == 0.3);
  CHECK(cfg.get_bool("resume"));
  CHECK(cfg.get_pair("collate.sigmas") == std::pair<double, double>(0.2, 1.5));
  CHECK(cfg.serialize().find("loader.batch_size=64\n") != std::string::npos);
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
