// Small synthetic datasets: in memory, or written to temporary files for tests that need real
// files.
#pragma once

#include <cstdint>
#include <string>

#include "engine/data/dataset.h"

namespace lumen::testing {

// n images of (h, w, 3) where every byte of image i is (i * 7 + channel) % 256; label i % 3.
data::ImageDataset numbered_dataset(int64_t n, int h = 4, int w = 5);

// Writes a CIFAR-10 binary batch of n 32x32 images to `path`: label i % classes, and a pattern per
// class (stripes of a class-specific period and orientation, with per-image colour and phase) so
// that classes are learnable. Returns path.
std::string write_cifar_batch(const std::string& path, int n, int classes, uint64_t seed);

// Where Debian's dataset-fashion-mnist puts Fashion-MNIST, or $LUMEN_FASHION_MNIST when set (a
// machine where the package was unpacked elsewhere).
std::string fashion_mnist_dir();

// A fresh temporary folder for this process and `name` (removed first if it exists).
std::string temp_dir(const std::string& name);

}  // namespace lumen::testing
