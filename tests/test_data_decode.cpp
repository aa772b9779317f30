// Decoding: format detection from magic bytes, every colour layout to RGB8, every kind of bad
// file, and the storage resize.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <string>

#include "engine/data/image_decode.h"
#include "engine/data/resize.h"
#include "engine/io/safetensors.h"
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

TEST_CASE("PNG: an empty IDAT chunk is legal and ignored (stb 2.27 mishandles it)") {
  const int w = 6, h = 5;
  const auto rgb = testing::smooth_rgb(w, h, 8);
  auto png = encode_png(w, h, 2, 8, rgb);
  // After the signature (8) and IHDR (25 bytes): an IDAT chunk of length 0 with its CRC.
  const std::vector<uint8_t> empty_idat = {0, 0, 0, 0, 'I', 'D', 'A', 'T', 0x35, 0xAF, 0x06, 0x1E};
  png.insert(png.begin() + 33, empty_idat.begin(), empty_idat.end());
  CHECK(decode(png).pixels == rgb);
  png.resize(png.size() - 20);  // cuts into the real IDAT chunk
  CHECK(contains(refusal(png), "truncated PNG"));
  png.resize(33 + 11);  // the empty IDAT chunk missing its last CRC byte (found by the fuzzer)
  CHECK(contains(refusal(png), "truncated PNG"));
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

TEST_CASE("PNM: comments, 16-bit samples, truncation and huge header numbers") {
  const std::string commented = "P5\n# a comment\n2 1\n# another\n255\n";
  std::vector<uint8_t> pgm(commented.begin(), commented.end());
  pgm.insert(pgm.end(), {10, 250});
  CHECK(decode(pgm).pixels == std::vector<uint8_t>{10, 10, 10, 250, 250, 250});
  const std::string wide_header = "P6 1 1 65535\n";
  std::vector<uint8_t> wide(wide_header.begin(), wide_header.end());
  wide.insert(wide.end(), {0xFF, 0xFF, 0x80, 0x00, 0x00, 0x00});  // 65535, 32768, 0
  CHECK(decode(wide).pixels == std::vector<uint8_t>{255, 128, 0});
  auto ppm = testing::encode_pnm(4, 4, 3, testing::smooth_rgb(4, 4));
  ppm.pop_back();
  CHECK(contains(refusal(ppm), "truncated PNM data"));
  const std::string huge = "P6 99999999999 1 255\n";
  CHECK(contains(refusal(std::vector<uint8_t>(huge.begin(), huge.end())), "more than 9 digits"));
  const std::string big = "P5 20000 20000 255\n";
  CHECK(contains(refusal(std::vector<uint8_t>(big.begin(), big.end())), "too large"));
}

TEST_CASE("BMP: a file cut short is refused rather than padded with zeros") {
  auto bmp = testing::encode_bmp(8, 8, testing::smooth_rgb(8, 8));
  bmp.resize(bmp.size() - 10);
  CHECK(contains(refusal(bmp), "truncated BMP data"));
  bmp[30] = 8;  // an unknown compression, which stb reads as plain rows (found by the fuzzer)
  CHECK(contains(refusal(bmp), "truncated BMP data"));
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
  CHECK(max_abs_diff(decode(testing::encode_jpeg_gray(w, h, gray, 100)).pixels, expected_gray) <=
        4);

  // Inverted (Adobe) CMYK, as libjpeg-turbo and PIL read it: R = C * K / 255.
  std::vector<uint8_t> cmyk;
  for (int i = 0; i < w * h; ++i) {
    const uint8_t* p = &rgb[3 * i];
    const uint8_t k = std::max({p[0], p[1], p[2]});
    auto ink = [k](uint8_t v) {
      return uint8_t(std::min(255, (v * 255 + k / 2) / std::max<int>(k, 1)));
    };
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
  const int offset = 4;  // torchvision: int(round(4.5)) = 4, Python rounds half to even
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

TEST_CASE("resize matches torchvision's Resize(S) + CenterCrop(S) on PIL images") {
  const SafetensorsFile golden = load_safetensors("fixtures/data_resize.safetensors");
  const int cases = std::stoi(golden.metadata.at("cases"));
  REQUIRE(cases >= 6);
  for (int i = 0; i < cases; ++i) {
    const Tensor in = golden.tensors.at("in_" + std::to_string(i));
    const Tensor expected = golden.tensors.at("out_" + std::to_string(i));
    const int h = int(in.size(0)), w = int(in.size(1)), s = int(expected.size(0));
    CAPTURE(h);
    CAPTURE(w);
    CAPTURE(s);
    std::vector<uint8_t> out(size_t(s) * s * 3);
    resize_shorter_and_center_crop(in.data<uint8_t>(), w, h, out.data(), s);
    const uint8_t* want = expected.data<uint8_t>();
    int worst = 0;
    size_t off_by_one = 0;
    for (size_t k = 0; k < out.size(); ++k) {
      const int d = std::abs(int(out[k]) - int(want[k]));
      worst = std::max(worst, d);
      off_by_one += d == 1;
    }
    // Same fixed-point arithmetic and u8 intermediate as PIL: bit-exact.
    CHECK(worst == 0);
    CHECK(off_by_one == 0);
  }
}

TEST_CASE("JPEG decoding matches PIL's Image.open(...).convert(\"RGB\")") {
  const SafetensorsFile golden = load_safetensors("fixtures/data_decode.safetensors");
  std::stringstream names(golden.metadata.at("cases"));
  std::string name;
  int cases = 0;
  while (std::getline(names, name, ',')) {
    CAPTURE(name);
    const Tensor file = golden.tensors.at(name + "_file");
    const Tensor expected = golden.tensors.at(name + "_rgb");
    const RgbImage img = decode_image(file.data<uint8_t>(), size_t(file.numel()));
    REQUIRE(img.height == expected.size(0));
    REQUIRE(img.width == expected.size(1));
    const std::vector<uint8_t> want(expected.data<uint8_t>(),
                                    expected.data<uint8_t>() + expected.numel());
    CHECK(max_abs_diff(img.pixels, want) == 0);
    ++cases;
  }
  CHECK(cases == 5);
}

TEST_CASE("JPEG: a good file decodes the same after any bad one, in the same thread") {
  // Fixtures from tools/fixtures/data_jpeg_truncation.py (PIL, quality 90).
  const std::string dir = "fixtures/jpeg_truncation/";
  const auto good = read_file_bytes(dir + "good_40x48_q90.jpg", 1 << 20);
  const auto cut_header = read_file_bytes(dir + "truncated_header.jpg", 1 << 20);
  const auto cut_data = read_file_bytes(dir + "truncated_data.jpg", 1 << 20);
  const std::vector<uint8_t> cut_20(good.begin(), good.begin() + 20);
  const RgbImage first = decode(good);
  REQUIRE(first.width == 40);
  REQUIRE(first.height == 48);
  const std::string header_reason = refusal(cut_header);
  CHECK_MESSAGE(contains(header_reason, "missing SOS marker"), header_reason);
  for (const auto* bad : {&cut_header, &cut_data, &cut_20, &cut_header, &cut_header}) {
    const std::string why = refusal(*bad);
    CHECK_MESSAGE(contains(why, "JPEG"), why);
    if (bad == &cut_header) CHECK(why == header_reason);  // the same reason every time
    const RgbImage again = decode(good);
    CHECK(again.width == 40);
    CHECK(again.height == 48);
    CHECK(again.pixels == first.pixels);
  }
}

TEST_CASE("running out of memory while decoding says so, and is no bad file") {
  const int side = 6000;  // 36 MB of gray samples, 108 MB as RGB
  std::vector<uint8_t> gray(size_t(side) * side, 77);
  const auto png = encode_png(side, side, 0, 8, gray);
  const auto jpeg = testing::encode_jpeg_gray(side, side, gray, 90);
  const auto progressive = testing::encode_jpeg_gray(side, side, gray, 90, /*progressive=*/true);
  gray = {};
  gray.shrink_to_fit();
  // The reason decoding gives under an address-space limit of extra_mib more than now.
  auto refusal_within = [](const std::vector<uint8_t>& bytes, size_t extra_mib) {
    testing::AddressSpaceLimit limit(extra_mib << 20);
    try {
      decode(bytes);
    } catch (const DecodeOutOfMemory& e) {
      return std::string("out of memory: ") + e.what();
    } catch (const std::exception& e) {
      return std::string("other: ") + e.what();
    }
    return std::string("decoded");
  };
  SUBCASE("PNG: stb's first zlib buffer (a failure stb gives no reason for)") {
    const std::string why = refusal_within(png, 16);
    CHECK_MESSAGE(contains(why, "out of memory: out of memory while decoding a PNG image"), why);
    CHECK_FALSE(contains(why, "corrupt"));
  }
  SUBCASE("PNG: stb's RGB conversion (stb's \"outofmem\")") {
    const std::string why = refusal_within(png, 64);
    CHECK_MESSAGE(contains(why,
                           "out of memory: out of memory while decoding a PNG image of "
                           "6000x6000 pixels (102 MiB as RGB)"),
                  why);
  }
  SUBCASE("JPEG: the pixel buffer (std::bad_alloc)") {
    const std::string why = refusal_within(jpeg, 64);
    CHECK_MESSAGE(
        contains(why, "out of memory: out of memory while decoding a JPEG image of 6000x"), why);
    CHECK(contains(why, "loader.num_workers"));
  }
  SUBCASE("JPEG: libjpeg's coefficient buffer (\"Insufficient memory\")") {
    const std::string why = refusal_within(progressive, 128);
    CHECK_MESSAGE(
        contains(why, "out of memory: out of memory while decoding a JPEG image of 6000x"), why);
  }
  // With memory to spare, each decodes.
  for (const auto* bytes : {&png, &jpeg, &progressive}) {
    const RgbImage image = decode(*bytes);
    CHECK(image.width == side);
    CHECK(image.pixels[12345] == 77);
  }
}
