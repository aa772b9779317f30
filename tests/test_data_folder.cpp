// Image folders: lightly's listing semantics, bad files (error vs skip), check_images, and the
// decode-once cache (in memory and as a file: build, reuse, staleness).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include "engine/data/image_cache.h"
#include "engine/data/image_folder.h"
#include "engine/data/resize.h"
#include "support/images.h"
#include "support/testing.h"

using namespace lumen;
using namespace lumen::data;
using lumen::testing::TempDir;
using lumen::testing::write_file;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::vector<uint8_t> png_file(int w, int h, int seed) {
  return testing::encode_png(w, h, 2, 8, testing::smooth_rgb(w, h, seed));
}

FolderDatasetOptions quiet(int size) {
  FolderDatasetOptions o;
  o.image_size = size;
  o.progress = false;
  return o;
}

// A folder holding one image of every kind the decoder accepts, and every kind of bad file.
void make_mixed_folder(const TempDir& dir) {
  const int w = 20, h = 16;
  const auto rgb = testing::smooth_rgb(w, h, 1);
  std::vector<uint8_t> gray(w * h, 90), rgba, wide;
  for (int i = 0; i < w * h; ++i) {
    rgba.insert(rgba.end(), {rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2], 128});
  }
  for (uint8_t v : rgb) wide.insert(wide.end(), {v, 0});
  std::vector<uint8_t> cmyk;
  for (int i = 0; i < w * h; ++i) cmyk.insert(cmyk.end(), {200, 150, 100, 255});
  write_file(dir / "good/rgb.png", testing::encode_png(w, h, 2, 8, rgb));
  write_file(dir / "good/gray.png", testing::encode_png(w, h, 0, 8, gray));
  write_file(dir / "good/rgba.PNG", testing::encode_png(w, h, 6, 8, rgba));
  write_file(dir / "good/deep.png", testing::encode_png(w, h, 2, 16, wide));
  write_file(dir / "good/palette.png",
             testing::encode_png(w, h, 3, 8, std::vector<uint8_t>(w * h, 1), {0, 0, 0, 9, 8, 7}));
  write_file(dir / "good/cmyk.jpg", testing::encode_jpeg_cmyk(w, h, cmyk));
  write_file(dir / "good/photo.JPEG", testing::encode_jpeg_rgb(w, h, rgb));
  write_file(dir / "good/nested/deeper/scan.bmp", testing::encode_bmp(w, h, rgb));
  auto truncated = testing::encode_jpeg_rgb(64, 64, testing::smooth_rgb(64, 64));
  truncated.resize(truncated.size() / 2);
  write_file(dir / "bad/truncated.jpg", truncated);
  write_file(dir / "bad/empty.png", {});
  const std::string text = "this is a note, not a photo\n";
  write_file(dir / "bad/notes.jpg", std::vector<uint8_t>(text.begin(), text.end()));
  auto huge = testing::encode_png(w, h, 2, 8, rgb);
  huge[16] = 0, huge[17] = 0x01, huge[18] = 0x86, huge[19] = 0xA0;  // width 100000
  write_file(dir / "bad/huge.png", huge);
}

}  // namespace

TEST_CASE("a flat folder: every image has label 0, names sorted, other files ignored") {
  TempDir dir;
  write_file(dir / "b.png", png_file(4, 4, 0));
  write_file(dir / "a.JPG", testing::encode_jpeg_rgb(4, 4, testing::smooth_rgb(4, 4)));
  write_file(dir / "c.txt", {1, 2, 3});
  write_file(dir / ".hidden.png", png_file(4, 4, 0));
  write_file(dir / "d.pgm", testing::encode_pnm(2, 2, 1, {1, 2, 3, 4}));
  const FolderListing listing = list_image_folder(dir.path());
  CHECK(listing.filenames == std::vector<std::string>{"a.JPG", "b.png", "d.pgm"});
  CHECK(listing.labels == std::vector<int64_t>{0, 0, 0});
  CHECK(listing.class_names.empty());
}

TEST_CASE("a folder of subfolders: one class per subfolder, root files ignored, nested found") {
  TempDir dir;
  write_file(dir / "root_file.png", png_file(4, 4, 0));
  write_file(dir / "dog/2.png", png_file(4, 4, 0));
  write_file(dir / "dog/1.png", png_file(4, 4, 0));
  write_file(dir / "cat/sub/x.bmp", testing::encode_bmp(3, 3, testing::smooth_rgb(3, 3)));
  write_file(dir / "cat/a.ppm", testing::encode_pnm(3, 3, 3, testing::smooth_rgb(3, 3)));
  write_file(dir / "cat/readme.md", {'h', 'i'});
  std::filesystem::create_directories(dir / "empty_class");
  const FolderListing listing = list_image_folder(dir.path() + "/");
  CHECK(listing.class_names == std::vector<std::string>{"cat", "dog", "empty_class"});
  CHECK(listing.filenames ==
        std::vector<std::string>{"cat/a.ppm", "cat/sub/x.bmp", "dog/1.png", "dog/2.png"});
  CHECK(listing.labels == std::vector<int64_t>{0, 0, 1, 1});
  CHECK(listing.path(0) == dir.path() + "/cat/a.ppm");
}

TEST_CASE("listing errors say what to do") {
  TempDir dir;
  CHECK_THROWS_WITH_AS(list_image_folder(dir / "missing"),
                       doctest::Contains("cannot read the image folder"), Error);
  write_file(dir / "notes.txt", {'x'});
  CHECK_THROWS_WITH_AS(list_image_folder(dir.path()), doctest::Contains("no images found"), Error);
  CHECK(has_image_extension("x.JpEg"));
  CHECK(has_image_extension("a.b.bmp"));
  CHECK_FALSE(has_image_extension("png"));
  CHECK_FALSE(has_image_extension("x.gif"));
}

TEST_CASE("bad files: the default error names every one and says how to skip them") {
  TempDir dir;
  make_mixed_folder(dir);
  try {
    load_image_folder(dir.path(), quiet(8));
    FAIL("a folder with bad files loaded under on_error=error");
  } catch (const Error& e) {
    const std::string message = e.what();
    CHECK(contains(message, "4 of 12 images"));
    CHECK(contains(message, "bad/truncated.jpg: corrupt or truncated JPEG data"));
    CHECK(contains(message, "bad/empty.png: empty file"));
    CHECK(contains(message, "bad/notes.jpg: not a JPEG, PNG"));
    CHECK(contains(message, "bad/huge.png: image too large: 100000x16"));
    CHECK(contains(message, "data.on_error=skip"));
    CHECK_FALSE(contains(message, "good/"));
  }
}

TEST_CASE("bad files: on_error=skip leaves them out and keeps every good one") {
  TempDir dir;
  make_mixed_folder(dir);
  FolderDatasetOptions options = quiet(8);
  options.on_error = parse_on_bad_file("skip");
  const FolderDataset loaded = load_image_folder(dir.path(), options);
  const ImageDataset& d = loaded.dataset;
  CHECK(d.size() == 8);
  CHECK(d.height == 8);
  CHECK(d.width == 8);
  CHECK(d.class_names == std::vector<std::string>{"bad", "good"});
  CHECK(std::all_of(d.labels.begin(), d.labels.end(), [](int64_t l) { return l == 1; }));
  CHECK(d.filenames.front() == "good/cmyk.jpg");
  CHECK(std::find(d.filenames.begin(), d.filenames.end(), "good/nested/deeper/scan.bmp") !=
        d.filenames.end());
  REQUIRE(loaded.bad_files.size() == 4);
  CHECK(loaded.bad_files[0].filename == "bad/empty.png");
  d.validate();
  // Each cached image is its file decoded and resized.
  for (int64_t i = 0; i < d.size(); ++i) {
    const RgbImage img = decode_image_file(dir.path() + "/" + d.filenames[i]);
    std::vector<uint8_t> expected(8 * 8 * 3);
    resize_shorter_and_center_crop(img.pixels.data(), img.width, img.height, expected.data(), 8);
    CHECK(std::equal(expected.begin(), expected.end(), d.image(i)));
  }
  CHECK_THROWS_WITH_AS(parse_on_bad_file("ignore"), doctest::Contains("data.on_error=skip"), Error);
}

TEST_CASE("check_images sorts files into healthy and corrupt") {
  TempDir dir;
  make_mixed_folder(dir);
  const ImageCheck check = check_images(dir.path(), 0, /*progress=*/false);
  CHECK(check.healthy.size() == 8);
  REQUIRE(check.corrupt.size() == 4);
  std::vector<std::string> names;
  for (const BadFile& b : check.corrupt) names.push_back(b.filename);
  CHECK(names == std::vector<std::string>{"bad/empty.png", "bad/huge.png", "bad/notes.jpg",
                                          "bad/truncated.jpg"});
}

TEST_CASE("cache file: built once, reused, rebuilt when stale") {
  TempDir dir, out;
  for (int i = 0; i < 6; ++i)
    write_file(dir / ("img" + std::to_string(i) + ".png"), png_file(12, 9, i));
  FolderDatasetOptions options = quiet(6);
  options.cache_path = out / "cache/images.cache";  // its folder is made on first use
  const FolderDataset first = load_image_folder(dir.path(), options);
  CHECK_FALSE(first.from_cache);
  CHECK(std::filesystem::exists(options.cache_path));
  const FolderDataset memory = load_image_folder(dir.path(), quiet(6));
  const Tensor expected = memory.dataset.images_tensor();
  testing::check_close(first.dataset.images_tensor(), expected, 0, "built cache");

  const FolderDataset second = load_image_folder(dir.path(), options);
  CHECK(second.from_cache);
  CHECK(second.dataset.filenames == memory.dataset.filenames);
  testing::check_close(second.dataset.images_tensor(), expected, 0, "reused cache");

  SUBCASE("a new file makes it stale") {
    write_file(dir / "img9.png", png_file(12, 9, 9));
    const FolderDataset third = load_image_folder(dir.path(), options);
    CHECK_FALSE(third.from_cache);
    CHECK(third.dataset.size() == 7);
    CHECK(load_image_folder(dir.path(), options).from_cache);
  }
  SUBCASE("another storage size makes it stale") {
    options.image_size = 4;
    const FolderDataset third = load_image_folder(dir.path(), options);
    CHECK_FALSE(third.from_cache);
    CHECK(third.dataset.height == 4);
  }
  SUBCASE("a rewritten file makes it stale") {
    write_file(dir / "img0.png", png_file(30, 9, 42));
    CHECK_FALSE(load_image_folder(dir.path(), options).from_cache);
  }
  SUBCASE("a file rewritten with its size and modification time kept makes it stale") {
    // A PPM, so that the rewritten image has the same byte count.
    const std::string path = dir / "img1.png";
    const auto ppm = testing::encode_pnm(12, 9, 3, testing::smooth_rgb(12, 9, 77));
    write_file(path, ppm);
    CHECK_FALSE(load_image_folder(dir.path(), options).from_cache);
    CHECK(load_image_folder(dir.path(), options).from_cache);
    struct stat before;
    REQUIRE(stat(path.c_str(), &before) == 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // past the clock's grain
    auto changed = ppm;
    changed.back() ^= 0xFF;
    write_file(path, changed);
    const timespec times[2] = {before.st_atim, before.st_mtim};  // as cp -p or rsync -t leave it
    REQUIRE(utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
    const FolderDataset third = load_image_folder(dir.path(), options);
    CHECK_FALSE(third.from_cache);
    const RgbImage now = decode_image_file(path);
    std::vector<uint8_t> expected_now(6 * 6 * 3);
    resize_shorter_and_center_crop(now.pixels.data(), now.width, now.height, expected_now.data(),
                                   6);
    CHECK(std::equal(expected_now.begin(), expected_now.end(), third.dataset.image(1)));
  }
  SUBCASE("a damaged cache file is rebuilt") {
    write_file(options.cache_path, {'g', 'a', 'r', 'b', 'a', 'g', 'e'});
    const FolderDataset third = load_image_folder(dir.path(), options);
    CHECK_FALSE(third.from_cache);
    testing::check_close(third.dataset.images_tensor(), expected, 0, "rebuilt cache");
  }
}

TEST_CASE("cache file with skipped files: reuse repeats the policy") {
  TempDir dir, out;
  make_mixed_folder(dir);
  FolderDatasetOptions options = quiet(5);
  options.on_error = OnBadFile::skip;
  options.cache_path = out / "mixed.cache";
  CHECK(load_image_folder(dir.path(), options).dataset.size() == 8);
  const FolderDataset reused = load_image_folder(dir.path(), options);
  CHECK(reused.from_cache);
  CHECK(reused.dataset.size() == 8);
  CHECK(reused.bad_files.size() == 4);
  options.on_error = OnBadFile::error;
  CHECK_THROWS_WITH_AS(load_image_folder(dir.path(), options), doctest::Contains("bad/notes.jpg"),
                       Error);
}

TEST_CASE("a folder where nothing decodes is an error even with skip") {
  TempDir dir;
  write_file(dir / "a.png", {});
  FolderDatasetOptions options = quiet(4);
  options.on_error = OnBadFile::skip;
  CHECK_THROWS_WITH_AS(load_image_folder(dir.path(), options), doctest::Contains("none of the 1"),
                       Error);
}

TEST_CASE("a good JPEG after a truncated one is healthy, on one thread or several") {
  // Fixtures from tools/fixtures/data_jpeg_truncation.py: every even file is cut before its scan.
  const std::string fixtures = "fixtures/jpeg_truncation/";
  const auto good = read_file_bytes(fixtures + "good_40x48_q90.jpg", 1 << 20);
  const auto bad = read_file_bytes(fixtures + "truncated_header.jpg", 1 << 20);
  TempDir dir;
  for (int i = 0; i < 16; ++i) {
    write_file(dir / ("img" + std::to_string(10 + i) + ".jpg"), i % 2 ? good : bad);
  }
  const RgbImage decoded = decode_image(good.data(), good.size());
  std::vector<uint8_t> expected(8 * 8 * 3);
  resize_shorter_and_center_crop(decoded.pixels.data(), decoded.width, decoded.height,
                                 expected.data(), 8);
  for (int threads : {1, 2, 4}) {
    CAPTURE(threads);
    const ImageCheck check = check_images(dir.path(), threads, /*progress=*/false);
    CHECK(check.healthy.size() == 8);
    REQUIRE(check.corrupt.size() == 8);
    for (const BadFile& b : check.corrupt) {
      CHECK_MESSAGE(contains(b.reason, "missing SOS marker"), b.filename << ": " << b.reason);
    }
    FolderDatasetOptions options = quiet(8);
    options.on_error = OnBadFile::skip;
    options.num_threads = threads;
    const FolderDataset loaded = load_image_folder(dir.path(), options);
    REQUIRE(loaded.dataset.size() == 8);
    for (int64_t i = 0; i < 8; ++i) {
      CHECK(loaded.dataset.filenames[size_t(i)] == "img" + std::to_string(11 + 2 * i) + ".jpg");
      CHECK(std::equal(expected.begin(), expected.end(), loaded.dataset.image(i)));
    }
  }
}

TEST_CASE("out of memory while decoding stops the load, naming the file, even with skip") {
  TempDir dir;
  write_file(dir / "small.png", png_file(6, 6, 1));
  const int side = 6000;
  write_file(dir / "big.png",
             testing::encode_png(side, side, 0, 8, std::vector<uint8_t>(size_t(side) * side, 9)));
  FolderDatasetOptions options = quiet(4);
  options.on_error = OnBadFile::skip;
  options.num_threads = 1;  // no new thread under the limit
  {
    testing::AddressSpaceLimit limit(size_t(16) << 20);
    CHECK_THROWS_WITH_AS(load_image_folder(dir.path(), options),
                         doctest::Contains("big.png: out of memory while decoding a PNG image"),
                         DecodeOutOfMemory);
    CHECK_THROWS_WITH_AS(check_images(dir.path(), 1, /*progress=*/false),
                         doctest::Contains("big.png: out of memory"), DecodeOutOfMemory);
  }
  CHECK(load_image_folder(dir.path(), options).dataset.size() == 2);
}
