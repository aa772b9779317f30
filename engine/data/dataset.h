// The in-memory dataset every reader produces: equally sized u8 RGB images, labels and names.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/tensor.h"

namespace lumen::data {

struct ImageDataset {
  int height = 0;
  int width = 0;
  // (N, height, width, 3) u8, row-major; owned here or memory-mapped from a cache file.
  std::shared_ptr<const uint8_t> pixels;
  std::vector<int64_t> labels;         // (N); 0 for every image of a flat folder
  std::vector<std::string> filenames;  // (N); relative to the root ("cat/0001.png", "train/00012.png")
  std::vector<std::string> class_names;  // label i is class_names[i]; empty for a flat folder

  int64_t size() const { return int64_t(labels.size()); }
  size_t image_bytes() const { return size_t(height) * size_t(width) * 3; }
  const uint8_t* image(int64_t i) const { return pixels.get() + size_t(i) * image_bytes(); }
  // A CPU u8 tensor (N, height, width, 3) holding a copy of the pixels.
  Tensor images_tensor() const;
  // Throws unless sizes, labels and names agree.
  void validate() const;
};

// What to do with files that cannot be decoded: stop with one error naming them all (default), or
// leave them out with a warning (`data.on_error=skip`).
enum class OnBadFile { error, skip };
OnBadFile parse_on_bad_file(const std::string& text);  // "error" | "skip"

struct BadFile {
  std::string filename;  // relative to the root
  std::string reason;
};

// A pixel buffer of `bytes` bytes owned by the returned pointer.
std::shared_ptr<uint8_t> allocate_pixels(size_t bytes);

}  // namespace lumen::data
