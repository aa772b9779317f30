// CIFAR binary batches and MNIST-format idx files (plain and gzip), written by the test; the real
// Fashion-MNIST from Debian's dataset-fashion-mnist when it is installed.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <zlib.h>

#include <cstdio>
#include <filesystem>

#include "engine/data/readers.h"
#include "support/datasets.h"
#include "support/images.h"
#include "support/testing.h"

using namespace lumen;
using namespace lumen::data;
using lumen::testing::TempDir;
using lumen::testing::write_file;

namespace {

std::vector<uint8_t> idx_file(std::vector<uint32_t> dims, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> out = {0, 0, 0x08, uint8_t(dims.size())};
  for (uint32_t d : dims) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(uint8_t(d >> s));
  }
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

void write_gzip(const std::string& path, const std::vector<uint8_t>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f);
  gzwrite(f, bytes.data(), unsigned(bytes.size()));
  gzclose(f);
}

}  // namespace

TEST_CASE("idx images and labels, plain and gzip, become RGB with index names") {
  TempDir dir;
  const int n = 3, h = 2, w = 4;
  std::vector<uint8_t> pixels(n * h * w), labels = {7, 0, 3};
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = uint8_t(i * 5);
  write_file(dir / "images-idx3-ubyte", idx_file({n, h, w}, pixels));
  write_gzip(dir / "labels-idx1-ubyte.gz", idx_file({n}, labels));
  const ImageDataset d =
      read_idx_dataset(dir / "images-idx3-ubyte", dir / "labels-idx1-ubyte.gz", "test");
  CHECK(d.size() == n);
  CHECK(d.height == h);
  CHECK(d.width == w);
  CHECK(d.labels == std::vector<int64_t>{7, 0, 3});
  CHECK(d.filenames ==
        std::vector<std::string>{"test/00000.png", "test/00001.png", "test/00002.png"});
  const uint8_t* second = d.image(1);
  for (int p = 0; p < h * w; ++p) {
    for (int c = 0; c < 3; ++c) REQUIRE(second[3 * p + c] == pixels[h * w + p]);
  }
}

TEST_CASE("idx errors name the file and the problem") {
  TempDir dir;
  write_file(dir / "img", idx_file({2, 2, 2}, std::vector<uint8_t>(7)));  // one byte short
  write_file(dir / "lab", idx_file({2}, {1, 2}));
  write_file(dir / "lab3", idx_file({3}, {1, 2, 3}));
  write_file(dir / "ok", idx_file({2, 2, 2}, std::vector<uint8_t>(8)));
  write_file(dir / "text", {'h', 'e', 'l', 'l', 'o'});
  write_file(dir / "bad.gz", {0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02});
  CHECK_THROWS_WITH_AS(read_idx_dataset(dir / "img", dir / "lab"), doctest::Contains("truncated"),
                       Error);
  CHECK_THROWS_WITH_AS(read_idx_dataset(dir / "ok", dir / "lab3"),
                       doctest::Contains("holds 2 images but"), Error);
  CHECK_THROWS_WITH_AS(read_idx_dataset(dir / "text", dir / "lab"),
                       doctest::Contains("is not an idx file"), Error);
  CHECK_THROWS_WITH_AS(read_idx_dataset(dir / "lab", dir / "lab"),
                       doctest::Contains("has 1 dimensions; expected 3"), Error);
  CHECK_THROWS_AS(read_idx_dataset(dir / "bad.gz", dir / "lab"), Error);
  CHECK_THROWS_WITH_AS(read_idx_dataset(dir / "missing", dir / "lab"),
                       doctest::Contains("cannot open"), Error);
}

TEST_CASE("CIFAR-10 and CIFAR-100 batches: planes become (32, 32, 3), batches concatenate") {
  TempDir dir;
  auto record = [](std::vector<uint8_t> labels, uint8_t base) {
    std::vector<uint8_t> r = labels;
    for (int c = 0; c < 3; ++c) {
      for (int p = 0; p < 1024; ++p) r.push_back(uint8_t(base + 50 * c + p % 7));
    }
    return r;
  };
  std::vector<uint8_t> b1 = record({3}, 1), b2 = record({9}, 2);
  const auto more = record({0}, 3);
  b2.insert(b2.end(), more.begin(), more.end());
  write_file(dir / "data_batch_1.bin", b1);
  write_file(dir / "data_batch_2.bin", b2);
  const ImageDataset d =
      read_cifar_batches({dir / "data_batch_1.bin", dir / "data_batch_2.bin"}, CifarKind::cifar10);
  CHECK(d.size() == 3);
  CHECK(d.height == 32);
  CHECK(d.labels == std::vector<int64_t>{3, 9, 0});
  CHECK(d.filenames[2] == "train/00002.png");
  const uint8_t* img = d.image(1);  // base 2
  CHECK(img[0] == 2);
  CHECK(img[1] == 52);
  CHECK(img[2] == 102);
  CHECK(img[3 * 5 + 1] == 52 + 5);

  write_file(dir / "train.bin", record({4, 77}, 0));
  CHECK(read_cifar_batches({dir / "train.bin"}, CifarKind::cifar100_fine).labels ==
        std::vector<int64_t>{77});
  CHECK(read_cifar_batches({dir / "train.bin"}, CifarKind::cifar100_coarse).labels ==
        std::vector<int64_t>{4});
  CHECK_THROWS_WITH_AS(read_cifar_batches({dir / "train.bin"}, CifarKind::cifar10),
                       doctest::Contains("not a whole number"), Error);
  write_file(dir / "wrong.bin", record({200}, 0));
  CHECK_THROWS_WITH_AS(read_cifar_batches({dir / "wrong.bin"}, CifarKind::cifar10),
                       doctest::Contains("has label 200"), Error);
}

TEST_CASE("Fashion-MNIST from the Debian package") {
  const std::string root = testing::fashion_mnist_dir();
  if (!std::filesystem::exists(root + "/t10k-images-idx3-ubyte.gz")) {
    MESSAGE("skipped: Fashion-MNIST not installed (tools/setup.sh --full installs it)");
    return;
  }
  const ImageDataset d =
      read_idx_dataset(root + "/t10k-images-idx3-ubyte.gz", root + "/t10k-labels-idx1-ubyte.gz",
                       "test", fashion_mnist_classes());
  CHECK(d.size() == 10000);
  CHECK(d.height == 28);
  CHECK(d.width == 28);
  std::vector<int> per_class(10, 0);
  for (int64_t l : d.labels) per_class[size_t(l)]++;
  for (int c = 0; c < 10; ++c) CHECK(per_class[size_t(c)] == 1000);  // the test split is balanced
  CHECK(d.labels[0] == 9);  // the first test image is an ankle boot
  CHECK(d.class_names[9] == "Ankle boot");
  const ImageDataset train = read_idx_dataset(root + "/train-images-idx3-ubyte.gz",
                                              root + "/train-labels-idx1-ubyte.gz", "train");
  CHECK(train.size() == 60000);
  std::vector<int> train_per_class(10, 0);
  for (int64_t l : train.labels) train_per_class[size_t(l)]++;
  for (int c = 0; c < 10; ++c) CHECK(train_per_class[size_t(c)] == 6000);
  CHECK(train.filenames.back() == "train/59999.png");
}
