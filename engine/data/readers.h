// Readers for the classic labelled sets, giving the same ImageDataset as an image folder.
//   MNIST-format idx files (MNIST, Fashion-MNIST, KMNIST; plain or gzip-compressed): grayscale
//   (N, 28, 28) images become RGB by repeating the channel; names "<prefix>/00012.png".
//   CIFAR-10 / CIFAR-100 binary batches (data_batch_1.bin ... / train.bin): (N, 32, 32, 3) RGB;
//   names "<prefix>/00012.png" counted across the batches.
#pragma once

#include <string>
#include <vector>

#include "engine/data/dataset.h"

namespace lumen::data {

// images_path: an idx3-ubyte file (u8, dims (N, H, W)); labels_path: an idx1-ubyte file (u8,
// (N)). Either may be gzip-compressed. class_names: optional, one per label value.
ImageDataset read_idx_dataset(const std::string& images_path, const std::string& labels_path,
                              const std::string& name_prefix = "train",
                              std::vector<std::string> class_names = {});

// Fashion-MNIST's ten class names, in label order.
std::vector<std::string> fashion_mnist_classes();

enum class CifarKind { cifar10, cifar100_coarse, cifar100_fine };

// Reads and concatenates CIFAR binary batches. CIFAR-10 records are 1 label byte + 3072 pixel
// bytes; CIFAR-100 records are coarse label, fine label, 3072 pixel bytes. Pixels are stored as
// planes (R, G, B), each 32 x 32, and become (32, 32, 3).
ImageDataset read_cifar_batches(const std::vector<std::string>& batch_paths, CifarKind kind,
                                const std::string& name_prefix = "train");

// The whole content of a file, decompressing it when it is gzip data (plain files pass through).
std::vector<uint8_t> read_maybe_gzip(const std::string& path, size_t max_bytes = size_t(4) << 30);

}  // namespace lumen::data
