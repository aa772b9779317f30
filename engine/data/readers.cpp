#include "engine/data/readers.h"

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace lumen::data {

namespace {

std::string index_name(const std::string& prefix, int64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%05lld.png", (long long)i);
  return prefix.empty() ? std::string(buf) : prefix + "/" + buf;
}

uint32_t big_endian_u32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
}

// Parses an idx header; returns the dims and the offset of the data.
std::vector<uint32_t> idx_dims(const std::vector<uint8_t>& bytes, const std::string& path,
                               int expected_ndim, size_t* data_offset) {
  LUMEN_CHECK(bytes.size() >= 4 && bytes[0] == 0 && bytes[1] == 0, path,
              " is not an idx file (it should start with two zero bytes); pass the MNIST-format "
              "images/labels file");
  LUMEN_CHECK(bytes[2] == 0x08, path, " holds idx data of type 0x", std::hex, int(bytes[2]),
              ", not unsigned bytes (0x08)");
  const int ndim = bytes[3];
  LUMEN_CHECK(ndim == expected_ndim, path, " has ", ndim, " dimensions; expected ", expected_ndim,
              expected_ndim == 3 ? " (images: N, H, W)" : " (labels: N)");
  LUMEN_CHECK(bytes.size() >= 4 + 4 * size_t(ndim), path, " is truncated inside its header");
  std::vector<uint32_t> dims;
  size_t count = 1;
  for (int d = 0; d < ndim; ++d) {
    dims.push_back(big_endian_u32(&bytes[4 + 4 * size_t(d)]));
    LUMEN_CHECK(dims.back() > 0 || d == 0, path, " has a zero-sized image dimension");
    count *= dims.back();
  }
  *data_offset = 4 + 4 * size_t(ndim);
  LUMEN_CHECK(bytes.size() - *data_offset == count, path, " holds ", bytes.size() - *data_offset,
              " data bytes but its header announces ", count, "; the file is truncated or corrupt");
  return dims;
}

}  // namespace

std::vector<uint8_t> read_maybe_gzip(const std::string& path, size_t max_bytes) {
  gzFile file = gzopen(path.c_str(), "rb");
  LUMEN_CHECK(file, "cannot open ", path, ": ", std::strerror(errno));
  std::vector<uint8_t> out;
  constexpr size_t kChunk = size_t(1) << 20;
  while (true) {
    const size_t at = out.size();
    out.resize(at + kChunk);
    const int got = gzread(file, out.data() + at, unsigned(kChunk));
    if (got < 0) {
      int code = 0;
      const std::string message = gzerror(file, &code);
      gzclose(file);
      LUMEN_FAIL("cannot read ", path, ": ", message, " (corrupt or truncated gzip data?)");
    }
    out.resize(at + size_t(got));
    if (got == 0) break;
    if (out.size() > max_bytes) {
      gzclose(file);
      LUMEN_FAIL(path, " holds more than ", max_bytes, " bytes; is it the right file?");
    }
  }
  gzclose(file);
  return out;
}

ImageDataset read_idx_dataset(const std::string& images_path, const std::string& labels_path,
                              const std::string& name_prefix,
                              std::vector<std::string> class_names) {
  const std::vector<uint8_t> images = read_maybe_gzip(images_path);
  const std::vector<uint8_t> labels = read_maybe_gzip(labels_path);
  size_t image_offset = 0, label_offset = 0;
  const std::vector<uint32_t> idims = idx_dims(images, images_path, 3, &image_offset);
  const std::vector<uint32_t> ldims = idx_dims(labels, labels_path, 1, &label_offset);
  LUMEN_CHECK(idims[0] == ldims[0], images_path, " holds ", idims[0], " images but ", labels_path,
              " holds ", ldims[0], " labels; pass matching files");
  ImageDataset d;
  d.height = int(idims[1]);
  d.width = int(idims[2]);
  d.class_names = std::move(class_names);
  const size_t n = idims[0], plane = size_t(d.height) * size_t(d.width);
  std::shared_ptr<uint8_t> pixels = allocate_pixels(n * plane * 3);
  const uint8_t* gray = images.data() + image_offset;
  uint8_t* rgb = pixels.get();
  for (size_t i = 0; i < n * plane; ++i) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = gray[i];
  d.pixels = std::move(pixels);
  for (size_t i = 0; i < n; ++i) {
    d.labels.push_back(labels[label_offset + i]);
    d.filenames.push_back(index_name(name_prefix, int64_t(i)));
  }
  d.validate();
  return d;
}

std::vector<std::string> fashion_mnist_classes() {
  return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
          "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
}

ImageDataset read_cifar_batches(const std::vector<std::string>& batch_paths, CifarKind kind,
                                const std::string& name_prefix) {
  LUMEN_CHECK(!batch_paths.empty(), "no CIFAR batch files given");
  const size_t label_bytes = kind == CifarKind::cifar10 ? 1 : 2;
  const size_t label_at = kind == CifarKind::cifar100_fine ? 1 : 0;
  constexpr size_t kPlane = 32 * 32;
  const size_t record = label_bytes + 3 * kPlane;
  std::vector<std::vector<uint8_t>> files;
  size_t n = 0;
  for (const std::string& path : batch_paths) {
    files.push_back(read_maybe_gzip(path));
    LUMEN_CHECK(!files.back().empty() && files.back().size() % record == 0, path, " holds ",
                files.back().size(), " bytes, not a whole number of ", record, "-byte ",
                kind == CifarKind::cifar10 ? "CIFAR-10" : "CIFAR-100",
                " records; pass the binary version's batch files (data_batch_*.bin, train.bin)");
    n += files.back().size() / record;
  }
  ImageDataset d;
  d.height = d.width = 32;
  std::shared_ptr<uint8_t> pixels = allocate_pixels(n * kPlane * 3);
  const int64_t max_label = kind == CifarKind::cifar10 ? 9 : kind == CifarKind::cifar100_coarse ? 19 : 99;
  size_t i = 0;
  for (size_t f = 0; f < files.size(); ++f) {
    const std::vector<uint8_t>& bytes = files[f];
    for (size_t r = 0; r < bytes.size() / record; ++r, ++i) {
      const uint8_t* rec = bytes.data() + r * record;
      const int64_t label = rec[label_at];
      LUMEN_CHECK(label <= max_label, batch_paths[f], " record ", r, " has label ", label,
                  ", above ", max_label, "; is it a ",
                  kind == CifarKind::cifar10 ? "CIFAR-100" : "CIFAR-10", " file?");
      const uint8_t* planes = rec + label_bytes;
      uint8_t* out = pixels.get() + i * kPlane * 3;
      for (size_t p = 0; p < kPlane; ++p) {
        out[3 * p + 0] = planes[p];
        out[3 * p + 1] = planes[kPlane + p];
        out[3 * p + 2] = planes[2 * kPlane + p];
      }
      d.labels.push_back(label);
      d.filenames.push_back(index_name(name_prefix, int64_t(i)));
    }
  }
  d.pixels = std::move(pixels);
  d.validate();
  return d;
}

}  // namespace lumen::data
