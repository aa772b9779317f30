#include "api/datasets.h"

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "engine/data/image_cache.h"
#include "engine/data/readers.h"
#include "engine/data/resize.h"

namespace lumen {

namespace fs = std::filesystem;

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

data::ImageDataset first_n(data::ImageDataset d, int64_t limit) {
  if (limit <= 0 || limit >= d.size()) return d;
  d.labels.resize(size_t(limit));
  d.filenames.resize(size_t(limit));
  return d;  // the pixel buffer keeps its size; only the first `limit` images are addressed
}

data::ImageDataset open_idx(const std::string& images_path) {
  const std::string file = fs::path(images_path).filename().string();
  const size_t at = file.find("images-idx3-ubyte");
  LUMEN_CHECK(at != std::string::npos, images_path,
              " is not an idx images file (expected a name like train-images-idx3-ubyte.gz)");
  const std::string labels_name = file.substr(0, at) + "labels-idx1-ubyte" + file.substr(at + 17);
  const std::string labels_path = (fs::path(images_path).parent_path() / labels_name).string();
  LUMEN_CHECK(fs::exists(labels_path), "the labels of ", images_path, " should be in ", labels_path,
              ", which does not exist");
  const std::string prefix = file.substr(0, at ? at - 1 : 0);  // "train" or "t10k"
  const bool fashion = images_path.find("fashion") != std::string::npos;
  return data::read_idx_dataset(
      images_path, labels_path, prefix.empty() ? "images" : prefix,
      fashion ? data::fashion_mnist_classes() : std::vector<std::string>{});
}

data::ImageDataset open_cifar(const std::string& path) {
  std::vector<std::string> batches;
  if (fs::is_directory(path)) {
    for (int i = 1; i <= 5; ++i) {
      const std::string p = path + "/data_batch_" + std::to_string(i) + ".bin";
      if (fs::exists(p)) batches.push_back(p);
    }
  } else {
    batches.push_back(path);
  }
  const std::string name = fs::path(batches.front()).filename().string();
  return data::read_cifar_batches(batches, data::CifarKind::cifar10,
                                  name.rfind("test", 0) == 0 ? "test" : "train");
}

}  // namespace

data::ImageDataset open_dataset(const DatasetRequest& r) {
  LUMEN_CHECK(!r.path.empty(), "no dataset given: pass input_dir=<folder or dataset file>");
  LUMEN_CHECK(fs::exists(r.path), "dataset '", r.path, "' does not exist");
  data::ImageDataset d;
  const bool idx = !fs::is_directory(r.path) && r.path.find("idx3-ubyte") != std::string::npos;
  const bool cifar =
      !idx && (ends_with(r.path, ".bin") ||
               (fs::is_directory(r.path) && fs::exists(r.path + "/data_batch_1.bin")));
  LUMEN_CHECK(r.filenames.empty() || !(idx || cifar),
              "data.filenames names images of a folder, but '", r.path, "' is ",
              idx ? "an idx" : "a CIFAR",
              " dataset; drop data.filenames or "
              "point input_dir at an image folder");
  if (idx) {
    d = open_idx(r.path);
  } else if (cifar) {
    d = open_cifar(r.path);
  } else {
    LUMEN_CHECK(fs::is_directory(r.path), "'", r.path,
                "' is neither an image folder nor a dataset file Lumen reads (idx, CIFAR .bin)");
    LUMEN_CHECK(
        r.image_size <= data::kMaxStorageSize,
        "collate.input_size is too large for an image folder: its images would be cached at ",
        r.image_size, " pixels a side, past the image cache's limit of ", data::kMaxStorageSize,
        " (training caches folder images at about 8/7 of collate.input_size); lower "
        "collate.input_size");
    data::FolderDatasetOptions o;
    o.image_size = r.image_size;
    o.on_error = r.on_error;
    o.cache_path = r.cache_path;
    o.file_list = r.filenames;
    o.num_threads = r.num_threads;
    o.progress = r.progress;
    d = data::load_image_folder(r.path, o).dataset;
  }
  return first_n(std::move(d), r.limit);
}

DatasetRequest dataset_request(const Config& c, const std::string& path, int image_size) {
  DatasetRequest r;
  r.path = path;
  r.image_size = image_size;
  r.on_error = data::parse_on_bad_file(c.get_string("data.on_error"));
  r.num_threads = int(std::max<int64_t>(0, c.get_int("loader.num_workers")));
  r.limit = c.get_int("data.limit");
  return r;
}

data::ImageDataset resized_dataset(const data::ImageDataset& d, int size) {
  if (d.height == size && d.width == size) return d;
  data::ImageDataset out = d;
  out.height = out.width = size;
  auto pixels = data::allocate_pixels(size_t(d.size()) * out.image_bytes());
  for (int64_t i = 0; i < d.size(); ++i) {
    data::resize_shorter_and_center_crop(d.image(i), d.width, d.height,
                                         pixels.get() + size_t(i) * out.image_bytes(), size);
  }
  out.pixels = pixels;
  return out;
}

}  // namespace lumen
