// Opening the datasets users point Lumen at, from one path:
//   a folder of images (lightly's semantics: flat, or one subfolder per class), decoded once into
//     a cache at the storage size;
//   an MNIST-format idx images file (e.g. Fashion-MNIST's train-images-idx3-ubyte.gz; the labels
//     file beside it, named with labels-idx1-ubyte, is read too);
//   CIFAR-10 binary batches: a .bin file, or a folder holding data_batch_1.bin ... (the train set).
#pragma once

#include <string>

#include "api/config.h"
#include "engine/data/dataset.h"

namespace lumen {

struct DatasetRequest {
  std::string path;
  // Storage size S of folder images, from collate.input_size (named in errors); at most
  // data::kMaxStorageSize. The other sets keep their own size.
  int image_size = 224;
  data::OnBadFile on_error = data::OnBadFile::error;
  std::string cache_path;  // folder images only: reuse or build this cache file ("": in memory)
  // data.filenames: a text file naming the folder images to use, one path relative to `path` a
  // line; the folder is then not listed ("": every image of the folder).
  std::string filenames;
  int num_threads = 0;  // decode threads (0: all cores)
  int64_t limit = 0;    // keep the first N images (0: all)
  bool progress = true;
};

data::ImageDataset open_dataset(const DatasetRequest& request);

// The request for `path` from the data keys of a config (data.on_error, data.limit,
// loader.num_workers); image_size: the storage size of folder images.
DatasetRequest dataset_request(const Config& config, const std::string& path, int image_size);

// The same images resized to size x size (shorter side, then centre crop) when they are not that
// size already.
data::ImageDataset resized_dataset(const data::ImageDataset& dataset, int size);

}  // namespace lumen
