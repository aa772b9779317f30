// TIFF and WebP: every layout against PIL's Image.open(...).convert("RGB") (golden fixture from
// tools/fixtures/data_formats.py), every kind of hostile file, libtiff's messages kept per call
// (nothing on stderr, the right reason on every thread).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include "engine/data/image_decode.h"
#include "engine/data/image_folder.h"
#include "engine/io/safetensors.h"
#include "support/images.h"
#include "support/stderr_capture.h"
#include "support/testing.h"

using namespace lumen;
using namespace lumen::data;

namespace {

using Bytes = std::vector<uint8_t>;

RgbImage decode(const Bytes& bytes, const DecodeLimits& limits = {}) {
  return decode_image(bytes.data(), bytes.size(), limits);
}

// The reason decode_image gives for bytes it must refuse (fails the test when they decode).
std::string refusal(const Bytes& bytes, const DecodeLimits& limits = {}) {
  try {
    decode(bytes, limits);
  } catch (const Error& e) {
    return e.what();
  }
  FAIL("bytes that should be refused decoded");
  return "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The golden cases: name -> (file, PIL's pixels).
struct Golden {
  Bytes file;
  Tensor rgb;
};
std::map<std::string, Golden> golden_cases() {
  const SafetensorsFile f = load_safetensors("fixtures/data_formats.safetensors");
  std::map<std::string, Golden> cases;
  std::stringstream names(f.metadata.at("cases"));
  std::string name;
  while (std::getline(names, name, ',')) {
    const Tensor file = f.tensors.at(name + "_file");
    cases[name] = {Bytes(file.data<uint8_t>(), file.data<uint8_t>() + file.numel()),
                   f.tensors.at(name + "_rgb")};
  }
  return cases;
}

// A little-endian uncompressed TIFF: one strip of `data`, any tags on top of the basic ones
// (a tag given in `extra` replaces the default one). Values are SHORT below 65536, else LONG.
Bytes encode_tiff(uint32_t width, uint32_t height, uint16_t bits, uint16_t samples,
                  uint16_t photometric, const Bytes& data,
                  std::map<uint16_t, std::vector<uint32_t>> extra = {}) {
  std::map<uint16_t, std::vector<uint32_t>> tags = {
      {256, {width}},   {257, {height}},      {258, std::vector<uint32_t>(samples, bits)},
      {259, {1}},       {262, {photometric}}, {273, {8}},
      {277, {samples}}, {278, {height}},      {279, {uint32_t(data.size())}}};
  for (auto& [tag, values] : extra) tags[tag] = values;
  Bytes out(8 + data.size(), 0);
  out[0] = out[1] = 'I';
  out[2] = 42;
  std::copy(data.begin(), data.end(), out.begin() + 8);
  if (out.size() % 2) out.push_back(0);
  auto put = [](Bytes* b, uint32_t v, int n) {
    for (int i = 0; i < n; ++i) b->push_back(uint8_t(v >> (8 * i)));
  };
  const uint32_t ifd_at = uint32_t(out.size());
  std::memcpy(&out[4], &ifd_at, 4);
  Bytes values;
  const uint32_t values_at = ifd_at + 2 + 12 * uint32_t(tags.size()) + 4;
  put(&out, uint32_t(tags.size()), 2);
  for (const auto& [tag, v] : tags) {
    const bool wide = std::any_of(v.begin(), v.end(), [](uint32_t x) { return x > 65535; });
    const int size = wide ? 4 : 2;
    put(&out, tag, 2);
    put(&out, wide ? 4 : 3, 2);
    put(&out, uint32_t(v.size()), 4);
    if (v.size() * size <= 4) {
      Bytes inline_value;
      for (uint32_t x : v) put(&inline_value, x, size);
      inline_value.resize(4, 0);
      out.insert(out.end(), inline_value.begin(), inline_value.end());
    } else {
      put(&out, values_at + uint32_t(values.size()), 4);
      for (uint32_t x : v) put(&values, x, size);
    }
  }
  put(&out, 0, 4);
  if (!values.empty()) out.insert(out.end(), values.begin(), values.end());
  return out;
}

Bytes rgb_tiff(uint32_t w, uint32_t h, std::map<uint16_t, std::vector<uint32_t>> extra = {}) {
  return encode_tiff(w, h, 8, 3, 2, testing::smooth_rgb(int(w), int(h), 3), std::move(extra));
}

// Hostile and unsupported files, each with a part of the reason it must be refused with.
std::vector<std::pair<Bytes, std::string>> hostile_tiffs() {
  const auto cases = golden_cases();
  const Bytes deflate = cases.at("tiff_rgb_deflate").file;
  const Bytes jpeg = cases.at("tiff_rgb_jpeg").file;
  Bytes cut = rgb_tiff(32, 32);
  cut.resize(8 + 32 * 32 * 3 / 2);  // the IFD is after the pixel data: gone
  // 100 bytes of a 3072-byte strip (libtiff repairs a byte count that is merely too small when
  // the file does hold the data, as PIL does: here it does not).
  const Bytes short_strip = encode_tiff(32, 32, 8, 3, 2, Bytes(100));
  Bytes past_end = rgb_tiff(8, 8, {{273, {1 << 20}}});
  Bytes deflate_cut = deflate;
  // PIL writes the pixel data before the IFD: damage the compressed stream in place.
  for (size_t i = 20; i < 60; ++i) deflate_cut[i] ^= 0x5A;
  Bytes jpeg_damaged = jpeg;
  for (size_t i = jpeg.size() / 4; i < jpeg.size() / 2; ++i) jpeg_damaged[i] = 0;
  Bytes garbage = {'I', 'I', 42, 0};
  for (int i = 0; i < 200; ++i) garbage.push_back(uint8_t(i * 37 + 11));
  const Bytes gray(16 * 16), rgb12(16 * 16 * 9 / 2), floats(16 * 16 * 4);
  return {
      {{'I', 'I', 42, 0}, "TIFF header"},
      {{'M', 'M', 0, 42, 0, 0}, "TIFF header"},
      {garbage, "TIFF"},
      {cut, "TIFF header"},
      {short_strip, "truncated TIFF data"},
      {past_end, "truncated TIFF data"},
      {deflate_cut, "TIFF data"},
      {jpeg_damaged, "TIFF data"},
      {encode_tiff(100000, 100000, 8, 3, 2, Bytes(48)), "image too large: 100000x100000"},
      {encode_tiff(0, 5, 8, 3, 2, Bytes(48)), "TIFF header"},
      {rgb_tiff(16, 16, {{322, {1u << 16}}, {323, {1u << 16}}, {324, {8}}, {325, {768}}}),
       "tiles of 65536x65536"},
      {encode_tiff(16, 16, 32, 1, 1, floats, {{339, {3}}}), "floating-point"},
      {encode_tiff(16, 16, 12, 3, 2, rgb12), "12-bit"},
      {encode_tiff(16, 16, 8, 3, 8, Bytes(16 * 16 * 3)), "CIE L*a*b*"},
      {encode_tiff(16, 16, 8, 3, 6, Bytes(16 * 16 * 3)), "YCbCr TIFF is supported only with JPEG"},
      {encode_tiff(16, 16, 8, 1, 1, gray, {{259, {6}}}), "old-style JPEG"},
      {encode_tiff(16, 16, 8, 1, 1, gray, {{259, {34999}}}), "compression scheme 34999"},
      {encode_tiff(16, 16, 8, 1, 1, gray, {{32997, {4}}}), "ImageDepth"},
  };
}

}  // namespace

TEST_CASE("TIFF and WebP are detected from magic bytes; their extensions are listed") {
  for (const auto& [name, c] : golden_cases()) {
    CAPTURE(name);
    const ImageFormat want = name.rfind("tiff", 0) == 0 ? ImageFormat::tiff : ImageFormat::webp;
    CHECK(detect_image_format(c.file.data(), c.file.size()) == want);
  }
  const Bytes bigtiff = {'I', 'I', 43, 0, 8, 0, 0, 0};
  CHECK(detect_image_format(bigtiff.data(), bigtiff.size()) == ImageFormat::tiff);
  const Bytes riff_wave = {'R', 'I', 'F', 'F', 4, 0, 0, 0, 'W', 'A', 'V', 'E'};
  CHECK(detect_image_format(riff_wave.data(), riff_wave.size()) == ImageFormat::unknown);
  for (const char* name : {"a.tif", "b.TIFF", "c.WebP", "d.tiff"}) CHECK(has_image_extension(name));
  CHECK_FALSE(has_image_extension("e.tifff"));
}

TEST_CASE("TIFF and WebP decode exactly as PIL's convert(\"RGB\")") {
  int tiffs = 0, webps = 0;
  for (const auto& [name, c] : golden_cases()) {
    CAPTURE(name);
    const RgbImage image = decode(c.file);
    REQUIRE(image.height == c.rgb.size(0));
    REQUIRE(image.width == c.rgb.size(1));
    const Bytes want(c.rgb.data<uint8_t>(), c.rgb.data<uint8_t>() + c.rgb.numel());
    size_t differing = 0;
    for (size_t i = 0; i < want.size(); ++i) differing += image.pixels[i] != want[i];
    // Lossy WebP too: PIL decodes through the same libwebp, so every byte must agree.
    CHECK(differing == 0);
    (name.rfind("tiff", 0) == 0 ? tiffs : webps) += 1;
  }
  CHECK(tiffs == 38);
  CHECK(webps == 5);
}

TEST_CASE("TIFF: hostile and unsupported files are refused with their reason") {
  for (const auto& [bytes, reason] : hostile_tiffs()) {
    CAPTURE(reason);
    const std::string why = refusal(bytes);
    CHECK_MESSAGE(contains(why, reason), why);
  }
  SUBCASE("limits are checked from the header, before any pixel is read") {
    // A deflate bomb: a few hundred bytes announcing 4096 x 4096.
    DecodeLimits limits;
    limits.max_pixels = 1 << 20;
    const std::string why = refusal(encode_tiff(4096, 4096, 8, 1, 1, Bytes(64)), limits);
    CHECK(contains(why, "too large: 4096x4096"));
    limits = {};
    limits.max_side = 16;
    CHECK(contains(refusal(rgb_tiff(17, 4), limits), "too large"));
    limits = {};
    limits.max_file_bytes = 100;
    CHECK(contains(refusal(rgb_tiff(8, 8), limits), "file too large"));
  }
}

TEST_CASE("TIFF: libtiff's messages stay per call: nothing on stderr, each thread its reason") {
  const auto hostile = hostile_tiffs();
  const auto cases = golden_cases();
  const std::string printed = testing::stderr_of([&] {
    for (const auto& [bytes, reason] : hostile) refusal(bytes);
    decode(encode_tiff(4, 4, 8, 1, 1, Bytes(16), {{65000, {7}}}));  // an unknown tag: a warning
  });
  CHECK_MESSAGE(printed.empty(), printed);
  // Eight threads decode good and bad files at once; every outcome must be the single-thread one.
  std::vector<std::string> expected;
  for (const auto& [bytes, reason] : hostile) expected.push_back(refusal(bytes));
  std::vector<int> wrong(8, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 20; ++round) {
        for (size_t i = 0; i < hostile.size(); ++i) {
          const size_t k = (i + size_t(t)) % hostile.size();
          try {
            decode(hostile[k].first);
            ++wrong[size_t(t)];
          } catch (const Error& e) {
            wrong[size_t(t)] += e.what() != expected[k];
          }
          const Golden& good = cases.at("tiff_rgb_jpeg");
          wrong[size_t(t)] += decode(good.file).pixels.size() != size_t(good.rgb.numel());
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int t = 0; t < 8; ++t) CHECK(wrong[size_t(t)] == 0);
}

TEST_CASE("WebP: hostile files are refused with their reason") {
  const auto cases = golden_cases();
  for (const char* name : {"webp_lossy", "webp_lossless", "webp_lossy_alpha", "webp_animated"}) {
    CAPTURE(name);
    Bytes cut = cases.at(name).file;
    cut.resize(cut.size() * 2 / 3);
    CHECK(contains(refusal(cut), "WebP"));
    Bytes header_only = cases.at(name).file;
    header_only.resize(16);
    CHECK(contains(refusal(header_only), "WebP header"));
  }
  SUBCASE("garbage after the magic") {
    Bytes garbage = {'R', 'I', 'F', 'F', 200, 0, 0, 0, 'W', 'E', 'B', 'P'};
    for (int i = 0; i < 200; ++i) garbage.push_back(uint8_t(i * 53 + 7));
    CHECK(contains(refusal(garbage), "WebP header"));
  }
  SUBCASE("an animation whose canvas is 20000 x 20000") {
    Bytes animated = cases.at("webp_animated").file;
    REQUIRE(std::memcmp(&animated[12], "VP8X", 4) == 0);
    for (int at : {24, 27}) {  // canvas width - 1 and height - 1, 24-bit little-endian
      animated[size_t(at)] = uint8_t(19999 & 0xFF);
      animated[size_t(at) + 1] = uint8_t(19999 >> 8);
      animated[size_t(at) + 2] = 0;
    }
    CHECK(contains(refusal(animated), "image too large: 20000x20000"));
  }
  SUBCASE("limits") {
    DecodeLimits limits;
    limits.max_pixels = 100;
    CHECK(contains(refusal(cases.at("webp_lossy").file, limits), "too large: 26x19"));
  }
}

TEST_CASE("a folder of TIFF and WebP files is listed and decoded like any image folder") {
  const auto cases = golden_cases();
  testing::TempDir dir;
  testing::write_file(dir / "a.TIF", cases.at("tiff_rgb_lzw").file);
  testing::write_file(dir / "b.webp", cases.at("webp_lossy").file);
  testing::write_file(dir / "c.tiff", cases.at("tiff_palette").file);
  const FolderListing listing = list_image_folder(dir.path());
  CHECK(listing.filenames == std::vector<std::string>{"a.TIF", "b.webp", "c.tiff"});
  const ImageCheck check = check_images(dir.path(), {}, /*progress=*/false);
  CHECK(check.healthy.size() == 3);
  CHECK(check.corrupt.empty());
}
