// Test helpers that make image files: PNGs of every colour type and bit depth (written by hand
// with zlib), JPEGs through TurboJPEG (RGB, grayscale, CMYK), binary PPM/PGM and 24-bit BMP, and
// a temporary folder that removes itself.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lumen::testing {

// A fresh empty folder under the system's temporary directory, removed with everything in it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Writes bytes to path, creating parent folders.
void write_file(const std::string& path, const std::vector<uint8_t>& bytes);

// A PNG of `samples` (height rows of width * channels(color_type) samples, big-endian when
// bit_depth is 16). color_type: 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA. palette: RGB
// triples for color_type 3.
std::vector<uint8_t> encode_png(int width, int height, int color_type, int bit_depth,
                                const std::vector<uint8_t>& samples,
                                const std::vector<uint8_t>& palette = {});

// A JPEG of rgb (height, width, 3) at `quality`; gray: one channel (height, width);
// cmyk: (height, width, 4) inverted CMYK as libjpeg-turbo stores it. A progressive JPEG makes
// libjpeg hold every coefficient of the image while decoding.
std::vector<uint8_t> encode_jpeg_rgb(int width, int height, const std::vector<uint8_t>& rgb,
                                     int quality = 95);
std::vector<uint8_t> encode_jpeg_gray(int width, int height, const std::vector<uint8_t>& gray,
                                      int quality = 95, bool progressive = false);
std::vector<uint8_t> encode_jpeg_cmyk(int width, int height, const std::vector<uint8_t>& cmyk,
                                      int quality = 95);

// Binary PPM (channels 3) or PGM (channels 1), 8-bit.
std::vector<uint8_t> encode_pnm(int width, int height, int channels,
                                const std::vector<uint8_t>& samples);
// 24-bit uncompressed BMP of rgb (height, width, 3), top row first.
std::vector<uint8_t> encode_bmp(int width, int height, const std::vector<uint8_t>& rgb);

// A smooth test pattern (height, width, 3) that survives JPEG well, varied by `seed`.
std::vector<uint8_t> smooth_rgb(int width, int height, int seed = 0);

}  // namespace lumen::testing
