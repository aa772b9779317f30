// data.filenames: the images named in a list file (one path relative to the root a line), with
// lightly's labels (class subfolders or flat), without listing the folder, and errors that name
// the line.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <unistd.h>

#include <string>

#include "engine/data/file_list.h"
#include "engine/data/image_cache.h"
#include "support/images.h"
#include "support/testing.h"

using namespace lumen;
using namespace lumen::data;
using lumen::testing::TempDir;
using lumen::testing::write_file;

namespace {

void png(const std::string& path, int seed = 0) {
  write_file(path, testing::encode_png(6, 5, 2, 8, testing::smooth_rgb(6, 5, seed)));
}

std::string write_list(const TempDir& dir, const std::string& text) {
  const std::string path = dir / "list.txt";
  write_file(path, std::vector<uint8_t>(text.begin(), text.end()));
  return path;
}

std::string error_of(const std::string& root, const std::string& list) {
  try {
    list_image_files(root, list);
  } catch (const Error& e) {
    return e.what();
  }
  FAIL("the list was accepted");
  return "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("names in class subfolders: classes are their first folders, in the folder's order") {
  TempDir dir, lists;
  for (const char* name : {"cat/1.png", "cat/2.png", "cat/3.png", "dog/a.png", "dog/b.png",
                           "dog/x/c.png", "bird/z.png"}) {
    png(dir / name);
  }
  const FolderListing listing = list_image_files(
      dir.path(), write_list(lists, "  dog/x/c.png \n\ncat/2.png\r\n./dog/b.png\n\tcat/1.png\n"));
  CHECK(listing.class_names == std::vector<std::string>{"cat", "dog"});
  CHECK(listing.filenames ==
        std::vector<std::string>{"cat/1.png", "cat/2.png", "dog/b.png", "dog/x/c.png"});
  CHECK(listing.labels == std::vector<int64_t>{0, 0, 1, 1});
  CHECK(listing.path(3) == dir.path() + "/dog/x/c.png");
}

TEST_CASE("names at the top: a flat set with label 0") {
  TempDir dir, lists;
  for (const char* name : {"a.png", "b.png", "c.JPG"}) png(dir / name);
  png(dir / "sub/d.png");
  const FolderListing listing = list_image_files(dir.path(), write_list(lists, "c.JPG\na.png"));
  CHECK(listing.class_names.empty());
  CHECK(listing.filenames == std::vector<std::string>{"a.png", "c.JPG"});
  CHECK(listing.labels == std::vector<int64_t>{0, 0});
}

TEST_CASE("the folder is not listed: what a listing would skip or warn about does not matter") {
  TempDir dir, lists;
  png(dir / ".hidden/x.png");  // a folder listing skips hidden folders: it finds no image here
  REQUIRE(symlink(".", (dir / "self").c_str()) == 0);  // and would warn about this loop
  CHECK_THROWS_WITH_AS(list_image_folder(dir.path()), doctest::Contains("no images found"), Error);
  const FolderListing listing = list_image_files(dir.path(), write_list(lists, ".hidden/x.png\n"));
  CHECK(listing.filenames == std::vector<std::string>{".hidden/x.png"});
  CHECK(listing.class_names == std::vector<std::string>{".hidden"});
  CHECK(listing.warnings.empty());
}

TEST_CASE("bad lines are errors that name each line") {
  TempDir dir, lists;
  png(dir / "cat/1.png");
  png(dir / "top.png");
  write_file(dir / "cat/notes.txt", {'x'});
  const std::string why = error_of(dir.path(), write_list(lists,
                                                          "cat/1.png\n"
                                                          "../outside.png\n"
                                                          "cat/nope.png\n"
                                                          " cat/./1.png\n"
                                                          "cat/notes.txt\n"
                                                          "\n"
                                                          "top.png\n"
                                                          "/abs/a.png\n"
                                                          "cat/../../b.png\n"
                                                          "cat\n"));
  INFO(why);
  CHECK(contains(why, "data.filenames=" + lists.path() + "/list.txt does not fit input_dir"));
  CHECK(contains(why, "line 2: '../outside.png' is not inside input_dir"));
  CHECK(contains(why, "line 3: 'cat/nope.png' cannot be found in input_dir (No such file"));
  CHECK(contains(why, "line 4: 'cat/./1.png' is listed already on line 1"));
  CHECK(contains(why, "line 5: 'cat/notes.txt' is not an image file name"));
  CHECK(contains(why,
                 "line 7: 'top.png' is at the top of input_dir while other listed files are "
                 "in class subfolders"));
  CHECK(contains(why, "line 8: '/abs/a.png' is not inside input_dir"));
  CHECK(contains(why, "line 9: 'cat/../../b.png' is not inside input_dir"));
  CHECK(contains(why, "line 10: 'cat' is not an image file name"));
}

TEST_CASE("a long run of bad lines names ten, then counts the rest") {
  TempDir dir, lists;
  png(dir / "a.png");
  std::string text;
  for (int i = 0; i < 13; ++i) text += "missing" + std::to_string(i) + ".png\n";
  const std::string why = error_of(dir.path(), write_list(lists, text));
  CHECK(contains(why, "line 10: 'missing9.png'"));
  CHECK_FALSE(contains(why, "line 11:"));
  CHECK(contains(why, "... and 3 more"));
}

TEST_CASE("an empty or missing list is an error") {
  TempDir dir, lists;
  png(dir / "a.png");
  CHECK(contains(error_of(dir.path(), write_list(lists, "\n  \n")), "names no file"));
  CHECK(contains(error_of(dir.path(), lists / "absent.txt"),
                 "cannot read the list of files data.filenames=" + lists.path() + "/absent.txt"));
  CHECK(contains(error_of(dir.path(), lists.path()), "not a file"));
}

TEST_CASE("the cache: a list makes its own listing hash, reused only with the same list") {
  TempDir dir, lists, out;
  for (int i = 0; i < 5; ++i) png(dir / ("img" + std::to_string(i) + ".png"), i);
  FolderDatasetOptions options;
  options.image_size = 4;
  options.progress = false;
  options.cache_path = out / "images.cache";
  const FolderDataset whole = load_image_folder(dir.path(), options);
  CHECK(whole.dataset.size() == 5);
  options.file_list = write_list(lists, "img3.png\nimg1.png\n");
  const FolderDataset some = load_image_folder(dir.path(), options);
  CHECK_FALSE(some.from_cache);
  CHECK(some.dataset.filenames == std::vector<std::string>{"img1.png", "img3.png"});
  CHECK(
      std::equal(some.dataset.image(0), some.dataset.image(0) + 4 * 4 * 3, whole.dataset.image(1)));
  CHECK(
      std::equal(some.dataset.image(1), some.dataset.image(1) + 4 * 4 * 3, whole.dataset.image(3)));
  CHECK(load_image_folder(dir.path(), options).from_cache);
  options.file_list = write_list(lists, "img3.png\nimg2.png\n");
  CHECK_FALSE(load_image_folder(dir.path(), options).from_cache);
}
