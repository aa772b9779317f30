#include "support/datasets.h"

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

#include "kernels/philox.cuh"

namespace lumen::testing {

std::string fashion_mnist_dir() {
  const char* env = std::getenv("LUMEN_FASHION_MNIST");
  return env != nullptr && *env != '\0' ? env : "/usr/share/datasets/fashion-mnist";
}

std::string write_cifar_batch(const std::string& path, int n, int classes, uint64_t seed) {
  std::ofstream out(path, std::ios::binary);
  std::vector<uint8_t> record(1 + 3072);
  for (int i = 0; i < n; ++i) {
    const int label = i % classes;
    record[0] = uint8_t(label);
    const float phase = 6.28f * philox_uniform(seed, 7, uint64_t(i) * 4);
    float colour[3];
    for (int c = 0; c < 3; ++c)
      colour[c] = 0.3f + 0.7f * philox_uniform(seed, 7, uint64_t(i) * 4 + 1 + c);
    const float period = 3.0f + 2.0f * float(label % 3);
    const bool vertical = (label / 3) % 2 == 1;
    for (int c = 0; c < 3; ++c) {
      for (int y = 0; y < 32; ++y) {
        for (int x = 0; x < 32; ++x) {
          const float t = float(vertical ? x : y);
          const float v = 0.5f + 0.5f * std::sin(6.28f * t / period + phase);
          record[1 + size_t(c) * 1024 + size_t(y) * 32 + size_t(x)] =
              uint8_t(255.0f * v * colour[c]);
        }
      }
    }
    out.write(reinterpret_cast<const char*>(record.data()), std::streamsize(record.size()));
  }
  return path;
}

data::ImageDataset numbered_dataset(int64_t n, int h, int w) {
  data::ImageDataset d;
  d.height = h;
  d.width = w;
  d.class_names = {"a", "b", "c"};
  std::shared_ptr<uint8_t> pixels = data::allocate_pixels(size_t(n) * d.image_bytes());
  for (int64_t i = 0; i < n; ++i) {
    for (size_t p = 0; p < d.image_bytes(); ++p) {
      pixels.get()[size_t(i) * d.image_bytes() + p] = uint8_t((i * 7 + int64_t(p % 3)) % 256);
    }
    d.labels.push_back(i % 3);
    d.filenames.push_back("img" + std::to_string(i) + ".png");
  }
  d.pixels = pixels;
  return d;
}

std::string temp_dir(const std::string& name) {
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("lumen_test_" + std::to_string(::getpid()) + "_" + name))
                              .string();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace lumen::testing
