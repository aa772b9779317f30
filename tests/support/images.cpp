#include "support/images.h"

#include <turbojpeg.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace lumen::testing {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "lumen_test_XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("cannot create a temporary folder");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) throw std::runtime_error("cannot write " + path);
  if (!bytes.empty()) std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
}

namespace {

void put_be32(std::vector<uint8_t>* out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out->push_back(uint8_t(v >> s));
}

void put_chunk(std::vector<uint8_t>* out, const char* type, const std::vector<uint8_t>& data) {
  put_be32(out, uint32_t(data.size()));
  const size_t start = out->size();
  out->insert(out->end(), type, type + 4);
  out->insert(out->end(), data.begin(), data.end());
  const uLong crc = crc32(0, out->data() + start, uInt(out->size() - start));
  put_be32(out, uint32_t(crc));
}

std::vector<uint8_t> tj_compress(int width, int height, const uint8_t* pixels, int pixel_format,
                                 int subsampling, int quality, int flags = 0) {
  tjhandle tj = tjInitCompress();
  unsigned char* jpeg = nullptr;
  unsigned long size = 0;
  const int rc = tjCompress2(tj, pixels, width, 0, height, pixel_format, &jpeg, &size, subsampling,
                             quality, TJFLAG_ACCURATEDCT | flags);
  std::vector<uint8_t> out;
  if (rc == 0) out.assign(jpeg, jpeg + size);
  tjFree(jpeg);
  tjDestroy(tj);
  if (rc != 0) throw std::runtime_error("tjCompress2 failed");
  return out;
}

}  // namespace

std::vector<uint8_t> encode_png(int width, int height, int color_type, int bit_depth,
                                const std::vector<uint8_t>& samples,
                                const std::vector<uint8_t>& palette) {
  const int channels = color_type == 0   ? 1
                       : color_type == 2 ? 3
                       : color_type == 3 ? 1
                       : color_type == 4 ? 2
                                         : 4;
  const size_t row_bytes = (size_t(width) * channels * bit_depth + 7) / 8;
  std::vector<uint8_t> raw;
  for (int y = 0; y < height; ++y) {
    raw.push_back(0);  // filter: none
    raw.insert(raw.end(), samples.begin() + y * row_bytes, samples.begin() + (y + 1) * row_bytes);
  }
  uLongf packed_size = compressBound(uLong(raw.size()));
  std::vector<uint8_t> packed(packed_size);
  compress(packed.data(), &packed_size, raw.data(), uLong(raw.size()));
  packed.resize(packed_size);

  std::vector<uint8_t> out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  std::vector<uint8_t> ihdr;
  put_be32(&ihdr, uint32_t(width));
  put_be32(&ihdr, uint32_t(height));
  ihdr.insert(ihdr.end(), {uint8_t(bit_depth), uint8_t(color_type), 0, 0, 0});
  put_chunk(&out, "IHDR", ihdr);
  if (color_type == 3) put_chunk(&out, "PLTE", palette);
  put_chunk(&out, "IDAT", packed);
  put_chunk(&out, "IEND", {});
  return out;
}

std::vector<uint8_t> encode_jpeg_rgb(int width, int height, const std::vector<uint8_t>& rgb,
                                     int quality) {
  return tj_compress(width, height, rgb.data(), TJPF_RGB, TJSAMP_444, quality);
}

std::vector<uint8_t> encode_jpeg_gray(int width, int height, const std::vector<uint8_t>& gray,
                                      int quality, bool progressive) {
  return tj_compress(width, height, gray.data(), TJPF_GRAY, TJSAMP_GRAY, quality,
                     progressive ? TJFLAG_PROGRESSIVE : 0);
}

std::vector<uint8_t> encode_jpeg_cmyk(int width, int height, const std::vector<uint8_t>& cmyk,
                                      int quality) {
  return tj_compress(width, height, cmyk.data(), TJPF_CMYK, TJSAMP_444, quality);
}

std::vector<uint8_t> encode_pnm(int width, int height, int channels,
                                const std::vector<uint8_t>& samples) {
  const std::string header = std::string(channels == 3 ? "P6" : "P5") + "\n" +
                             std::to_string(width) + " " + std::to_string(height) + "\n255\n";
  std::vector<uint8_t> out(header.begin(), header.end());
  out.insert(out.end(), samples.begin(), samples.end());
  return out;
}

std::vector<uint8_t> encode_bmp(int width, int height, const std::vector<uint8_t>& rgb) {
  const uint32_t row = uint32_t((width * 3 + 3) / 4 * 4);
  const uint32_t data_bytes = row * uint32_t(height);
  std::vector<uint8_t> out;
  auto le16 = [&](uint32_t v) { out.insert(out.end(), {uint8_t(v), uint8_t(v >> 8)}); };
  auto le32 = [&](uint32_t v) {
    out.insert(out.end(), {uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24)});
  };
  out.insert(out.end(), {'B', 'M'});
  le32(54 + data_bytes);
  le32(0);
  le32(54);
  le32(40);
  le32(uint32_t(width));
  le32(uint32_t(height));  // positive: bottom row first
  le16(1);
  le16(24);
  le32(0);
  le32(data_bytes);
  le32(2835);
  le32(2835);
  le32(0);
  le32(0);
  for (int y = height - 1; y >= 0; --y) {
    for (int x = 0; x < width; ++x) {
      const uint8_t* p = &rgb[(size_t(y) * width + x) * 3];
      out.insert(out.end(), {p[2], p[1], p[0]});
    }
    for (uint32_t pad = uint32_t(width) * 3; pad < row; ++pad) out.push_back(0);
  }
  return out;
}

std::vector<uint8_t> smooth_rgb(int width, int height, int seed) {
  std::vector<uint8_t> rgb(size_t(width) * height * 3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      uint8_t* p = &rgb[(size_t(y) * width + x) * 3];
      p[0] = uint8_t(40 + 170.0 * x / std::max(1, width - 1));
      p[1] = uint8_t(40 + 170.0 * y / std::max(1, height - 1));
      p[2] = uint8_t(128 + 80 * std::sin(0.1 * (x + y) + seed));
    }
  }
  return rgb;
}

}  // namespace lumen::testing
