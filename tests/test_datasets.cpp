// api/datasets: opening what input_dir names, and the errors that name the config key to change.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <string>

#include "api/datasets.h"
#include "engine/data/image_cache.h"
#include "support/datasets.h"
#include "support/images.h"
#include "support/testing.h"

using namespace lumen;
using lumen::testing::TempDir;
using lumen::testing::write_file;

namespace {

void png(const std::string& path, int seed = 0) {
  write_file(path, testing::encode_png(6, 5, 2, 8, testing::smooth_rgb(6, 5, seed)));
}

DatasetRequest request(const std::string& path, int image_size) {
  DatasetRequest r;
  r.path = path;
  r.image_size = image_size;
  r.progress = false;
  return r;
}

}  // namespace

TEST_CASE("a storage size past the cache's limit names collate.input_size and the limit") {
  TempDir dir;
  png(dir / "a.png");
  CHECK(open_dataset(request(dir.path(), 8)).size() == 1);
  CHECK_THROWS_WITH_AS(open_dataset(request(dir.path(), 4572)),
                       doctest::Contains("collate.input_size is too large for an image folder: its "
                                         "images would be cached at 4572 pixels a side, past the "
                                         "image cache's limit of 4096"),
                       Error);
}

TEST_CASE("data.filenames reaches the folder reader, and is refused for dataset files") {
  TempDir dir, lists;
  png(dir / "a/1.png");
  png(dir / "b/2.png");
  png(dir / "b/3.png");
  write_file(lists / "list.txt", {'b', '/', '3', '.', 'p', 'n', 'g', '\n'});
  DatasetRequest r = request(dir.path(), 4);
  r.filenames = lists / "list.txt";
  const data::ImageDataset d = open_dataset(r);
  CHECK(d.filenames == std::vector<std::string>{"b/3.png"});
  CHECK(d.class_names == std::vector<std::string>{"b"});
  const std::string cifar = testing::write_cifar_batch(lists / "data_batch_1.bin", 4, 2, 1);
  r.path = cifar;
  try {
    open_dataset(r);
    FAIL("data.filenames was accepted for a CIFAR file");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("data.filenames names images of a folder, but '" + cifar +
                                     "' is a CIFAR dataset") != std::string::npos);
  }
}
