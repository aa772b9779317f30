#include "engine/data/dataset.h"

#include <cstring>

namespace lumen::data {

Tensor ImageDataset::images_tensor() const {
  Tensor t = Tensor::empty({size(), height, width, 3}, DType::u8);
  if (t.nbytes()) std::memcpy(t.raw_data(), pixels.get(), t.nbytes());
  return t;
}

void ImageDataset::validate() const {
  LUMEN_CHECK(height > 0 && width > 0, "dataset images have no size (", height, "x", width, ")");
  LUMEN_CHECK(filenames.size() == labels.size(), "dataset has ", labels.size(), " labels but ",
              filenames.size(), " filenames");
  LUMEN_CHECK(size() == 0 || pixels, "dataset of ", size(), " images has no pixels");
  for (int64_t label : labels) {
    LUMEN_CHECK(label >= 0 && (class_names.empty() || label < int64_t(class_names.size())),
                "dataset label ", label, " is outside [0, ", class_names.size(), ")");
  }
}

OnBadFile parse_on_bad_file(const std::string& text) {
  if (text == "error") return OnBadFile::error;
  if (text == "skip") return OnBadFile::skip;
  LUMEN_FAIL("data.on_error=", text, " is not known; use data.on_error=error (stop on the first ",
             "listing of bad files) or data.on_error=skip (leave bad files out with a warning)");
}

std::shared_ptr<uint8_t> allocate_pixels(size_t bytes) {
  // Not zero-filled: every byte is written by the reader that asked for it.
  return std::shared_ptr<uint8_t>(new uint8_t[bytes ? bytes : 1], std::default_delete<uint8_t[]>());
}

}  // namespace lumen::data
