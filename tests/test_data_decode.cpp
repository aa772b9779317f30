// Decoding: format detection from magic bytes, every colour layout to RGB8, every kind of bad
// file, and the storage resize.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <algorithm>
#include <cstdlib>
#include <string>

#include "engine/data/image_decode.h"
#include "engine/data/resize.h"
#include "support/images.h"
#include "support/testing.h"

using namespace lumen;
using namespace lumen::data;
using lumen::testing::encode_png;

namespace {

RgbImage decode(const std::vector<uint8_t>& bytes, const DecodeLimits& limits = {}) {
  return decode_image(bytes.data(), bytes.size(), limits);
}

// The reason decode_image gives for bytes it must refuse (fails the test when it decodes).
std::string refusal(const std::vector<uint8_t>& bytes, const DecodeLimits& limits = {}) {
  try {
    decode(bytes, limits);
  } catch (const Error& e) {
    return e.what();
  }
  FAIL("bytes that should be refused decoded");
  return "";
}

int max_abs_diff(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  REQUIRE(a.size() == b.size());
  int worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(int(a[i]) - int(b[i])));
  return worst;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("formats are detected from magic bytes, not names") {
  const auto rgb = testing::smooth_rgb(4, 3);
  const auto png = encode_png(4, 3, 2, 8, rgb);
  const auto jpg = testing::encode_jpeg_rgb(4, 3, rgb);
  const auto bmp = testing::encode_bmp(4, 3, rgb);
  const auto ppm = testing::encode_pnm(4, 3, 3, rgb);
  CHECK(detect_image_format(png.data(), png.size()) == ImageFormat::png);
  CHECK(detect_image_format(jpg.data(), jpg.size()) == ImageFormat::jpeg);
  CHECK(detect_image_format(bmp.data(), bmp.size()) == ImageFormat::bmp);
  CHECK(detect_image_format(ppm.data(), ppm.size()) == ImageFormat::pnm);
  const std::string text = "hello, I am not a picture\n";
  CHECK(detect_image_format(reinterpret_cast<const uint8_t*>(text.data()), text.size()) ==
        ImageFormat::unknown);
}

TEST_CASE("PNG: RGB, grayscale, gray+alpha, RGBA, 16-bit and palette all become RGB8") {
  const int w = 5, h = 4;
  const auto rgb = testing::smooth_rgb(w, h, 3);
  SUBCASE("RGB 8-bit is exact") { CHECK(decode(encode_png(w, h, 2, 8, rgb)).pixels == rgb); }
  std::vector<uint8_t> gray(w * h), expected_gray(w * h * 3);
  for (int i = 0; i < w * h; ++i) {
    gray[i] = uint8_t(i * 11);
    expected_gray[3 * i] = expected_gray[3 * i + 1] = expected_gray[3 * i + 2] = gray[i];
  }
  SUBCASE("grayscale repeats the channel") {
    const RgbImage img = decode(encode_png(w, h, 0, 8, gray));
    CHECK(img.width == w);
    CHECK(img.height == h);
    CHECK(img.pixels == expected_gray);
  }
  SUBCASE("gray+alpha drops alpha") {
    std::vector<uint8_t> ga;
    for (uint8_t g : gray) ga.insert(ga.end(), {g, uint8_t(255 - g)});
    CHECK(decode(encode_png(w, h, 4, 8, ga)).pixels == expected_gray);
  }
  SUBCASE("RGBA drops alpha") {
    std::vector<uint8_t> rgba;
    for (int i = 0; i < w * h; ++i) {
      rgba.insert(rgba.end(), {rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2], uint8_t(i)});
    }
    CHECK(decode(encode_png(w, h, 6, 8, rgba)).pixels == rgb);
  }
  SUBCASE("16-bit RGB keeps the high byte") {
    std::vector<uint8_t> wide;
    for (uint8_t v : rgb) wide.insert(wide.end(), {v, uint8_t(0x5A)});  // big-endian samples
    CHECK(decode(encode_png(w, h, 2, 16, wide)).pixels == rgb);
  }
  SUBCASE("16-bit grayscale") {
    std::vector<uint8_t> wide;
    for (uint8_t g : gray) wide.insert(wide.end(), {g, uint8_t(0xFF)});
    CHECK(decode(encode_png(w, h, 0, 16, wide)).pixels == expected_gray);
  }
  SUBCASE("palette indices become their colours") {
    const std::vector<uint8_t> palette = {255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30};
    std::vector<uint8_t> index(w * h), expected;
    for (int i = 0; i < w * h; ++i) {
      index[i] = uint8_t(i % 4);
      expected.insert(expected.end(), palette.begin() + 3 * index[i],
                      palette.begin() + 3 * index[i] + 3);
    }
    CHECK(decode(encode_png(w, h, 3, 8, index, palette)).pixels == expected);
  }
}

TEST_CASE("BMP and binary PPM/PGM decode exactly") {
  const int w = 7, h = 3;
  const auto rgb = testing::smooth_rgb(w, h, 1);
  CHECK(decode(testing::encode_bmp(w, h, rgb)).pixels == rgb);
  CHECK(decode(testing::encode_pnm(w, h, 3, rgb)).pixels == rgb);
  std::vector<uint8_t> gray(w * h), expected;
  for (int i = 0; i < w * h; ++i) {
    gray[i] = uint8_t(200 - i);
    expected.insert(expected.end(), {gray[i], gray[i], gray[i]});
  }
  CHECK(decode(testing::encode_pnm(w, h, 1, gray)).pixels == expected);
}

TEST_CASE("JPEG: RGB, grayscale and CMYK decode close to their source") {
  const int w = 32, h = 24;
  const auto rgb = testing::smooth_rgb(w, h, 2);
  const RgbImage img = decode(testing::encode_jpeg_rgb(w, h, rgb, 100));
  CHECK(img.width == w);
  CHECK(img.height == h);
  CHECK(max_abs_diff(img.pixels, rgb) <= 6);

  std::vector<uint8_t> gray(w * h), expected_gray;
  for (int i = 0; i < w * h; ++i) {
    gray[i] = rgb[3 * i];
    expected_gray.insert(expected_gray.end(), {gray[i], gray[i], gray[i]});
  }
  CHECK(max_abs_diff(decode(testing::encode_jpeg_gray(w, h, gray, 100)).pixels, expected_gray) <= 4);

  // Inverted (Adobe) CMYK, as libjpeg-turbo and PIL read it: R = C * K / 255.
  std::vector<uint8_t> cmyk;
  for (int i = 0; i < w * h; ++i) {
    const uint8_t* p = &rgb[3 * i];
    const uint8_t k = std::max({p[0], p[1], p[2]});
    auto ink = [k](uint8_t v) { return uint8_t(std::min(255, (v * 255 + k / 2) / std::max<int>(k, 1))); };
    cmyk.insert(cmyk.end(), {ink(p[0]), ink(p[1]), ink(p[2]), k});
  }
  const RgbImage from_cmyk = decode(testing::encode_jpeg_cmyk(w, h, cmyk, 100));
  CHECK(max_abs_diff(from_cmyk.pixels, rgb) <= 8);
}

TEST_CASE("bad files are refused with a reason, never a crash") {
  const int w = 64, h = 48;
  const auto rgb = testing::smooth_rgb(w, h, 4);
  SUBCASE("zero bytes") { CHECK(contains(refusal({}), "empty file")); }
  SUBCASE("a text file, whatever its name") {
    const std::string text = "name,label\ncat.jpg,1\n";
    const std::string why = refusal(std::vector<uint8_t>(text.begin(), text.end()));
    CHECK(contains(why, "not a JPEG, PNG"));
    CHECK(contains(why, "text file"));
  }
  SUBCASE("a truncated JPEG (premature end of data is an error, not a warning)") {
    auto jpg = testing::encode_jpeg_rgb(w, h, rgb);
    jpg.resize(jpg.size() * 2 / 3);
    CHECK(contains(refusal(jpg), "JPEG"));
  }
  SUBCASE("a JPEG cut inside its header") {
    auto jpg = testing::encode_jpeg_rgb(w, h, rgb);
    jpg.resize(20);
    const std::string why = refusal(jpg);
    CHECK_MESSAGE(contains(why, "JPEG"), why);
  }
  SUBCASE("a truncated PNG") {
    auto png = encode_png(w, h, 2, 8, rgb);
    png.resize(png.size() / 2);
    CHECK(contains(refusal(png), "PNG"));
  }
  SUBCASE("a PNG header announcing 100000 x 100000 pixels") {
    auto png = encode_png(w, h, 2, 8, rgb);
    // IHDR width and height are bytes 16..23, big-endian.
    for (int at : {16, 20}) {
      png[at] = 0;
      png[at + 1] = 0x01;
      png[at + 2] = 0x86;
      png[at + 3] = 0xA0;
    }
    CHECK(contains(refusal(png), "image too large: 100000x100000"));
  }
  SUBCASE("a JPEG larger than the pixel limit") {
    DecodeLimits limits;
    limits.max_pixels = 1000;
    CHECK(contains(refusal(testing::encode_jpeg_rgb(w, h, rgb), limits), "too large: 64x48"));
  }
  SUBCASE("a PNG larger than the side limit") {
    DecodeLimits limits;
    limits.max_side = 32;
    CHECK(contains(refusal(encode_png(w, h, 2, 8, rgb), limits), "too large"));
  }
  SUBCASE("a file larger than the byte limit") {
    DecodeLimits limits;
    limits.max_file_bytes = 100;
    CHECK(contains(refusal(encode_png(w, h, 2, 8, rgb), limits), "file too large"));
  }
  SUBCASE("GIF is named as unsupported") {
    const std::string gif = "GIF89a\x01\x00\x01\x00";
    CHECK(contains(refusal(std::vector<uint8_t>(gif.begin(), gif.end())), "GIF"));
  }
  SUBCASE("a missing file") {
    try {
      decode_image_file("fixtures/does-not-exist.png");
      FAIL("a missing file decoded");
    } catch (const Error& e) {
      CHECK(contains(e.what(), "cannot open"));
    }
  }
}

TEST_CASE("resize: same size is the identity; wider images keep their centre") {
  const int s = 9;
  const auto square = testing::smooth_rgb(s, s, 5);
  std::vector<uint8_t> out(s * s * 3);
  resize_shorter_and_center_crop(square.data(), s, s, out.data(), s);
  CHECK(out == square);

  // 2s x s: no scaling, the crop keeps columns [round(s / 2), round(s / 2) + s).
  const auto wide = testing::smooth_rgb(2 * s, s, 6);
  resize_shorter_and_center_crop(wide.data(), 2 * s, s, out.data(), s);
  const int offset = 5;  // round(4.5) = 4 with banker's rounding in Python; lround gives 5
  for (int y = 0; y < s; ++y) {
    for (int x = 0; x < s * 3; ++x) {
      REQUIRE(out[(y * s) * 3 + x] == wide[(y * 2 * s + offset) * 3 + x]);
    }
  }
}

TEST_CASE("resize: halving uses the antialiased triangle filter (1, 3, 3, 1) / 8") {
  const int s = 8;
  std::vector<uint8_t> ramp(2 * s * 2 * s * 3);
  for (int y = 0; y < 2 * s; ++y) {
    for (int x = 0; x < 2 * s; ++x) {
      for (int c = 0; c < 3; ++c) ramp[(y * 2 * s + x) * 3 + c] = uint8_t(8 * x);
    }
  }
  std::vector<uint8_t> out(s * s * 3);
  resize_shorter_and_center_crop(ramp.data(), 2 * s, 2 * s, out.data(), s);
  // Interior output j covers inputs 2j-1..2j+2: (8(2j-1) + 3*8(2j) + 3*8(2j+1) + 8(2j+2)) / 8.
  for (int j = 1; j < s - 1; ++j) CHECK(int(out[(3 * s + j) * 3]) == 16 * j + 4);
  std::vector<uint8_t> flat(50 * 30 * 3, 77), small(7 * 7 * 3);
  resize_shorter_and_center_crop(flat.data(), 50, 30, small.data(), 7);
  CHECK(std::all_of(small.begin(), small.end(), [](uint8_t v) { return v == 77; }));
}
