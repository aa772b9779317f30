// Listing image folders with symbolic links (followed as os.walk(followlinks=True) does, each
// folder read once so loops end), torchvision's file order, and the warnings listing gives about
// what it leaves out. A loop used to take minutes: ctest gives this suite a short timeout.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>

#include "engine/data/image_cache.h"
#include "engine/data/image_folder.h"
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

void png(const std::string& path, int seed = 0) {
  write_file(path, testing::encode_png(4, 4, 2, 8, testing::smooth_rgb(4, 4, seed)));
}

void link(const std::string& target, const std::string& path) {
  const int made = symlink(target.c_str(), path.c_str());
  const std::string why = made == 0 ? "" : std::strerror(errno);
  REQUIRE_MESSAGE(made == 0, "symlink " << path << ": " << why);
}

// The listing's warnings joined, for CHECKs and messages.
std::string warnings(const FolderListing& listing) {
  std::string all;
  for (const std::string& w : listing.warnings) all += w + "\n";
  return all;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TEST_CASE("a link back to the root at the top of a flat folder is a loop, not a class") {
  TempDir dir;
  png(dir / "a.png");
  png(dir / "b.png");
  link(".", dir / "self");
  const FolderListing listing = list_image_folder(dir.path());
  CHECK(listing.filenames == std::vector<std::string>{"a.png", "b.png"});
  CHECK(listing.class_names.empty());
  REQUIRE(listing.warnings.size() == 1);
  CHECK(contains(listing.warnings[0], "skipped the folder self"));
  CHECK(contains(listing.warnings[0], "symbolic-link loop"));
}

TEST_CASE("self -> . at the top of a folder of classes: each image once") {
  TempDir dir;
  png(dir / "cat/1.png");
  png(dir / "dog/2.png");
  link(".", dir / "self");
  const auto start = std::chrono::steady_clock::now();
  const FolderListing listing = list_image_folder(dir.path());
  CHECK(seconds_since(start) < 1.0);
  CHECK(listing.class_names == std::vector<std::string>{"cat", "dog"});
  CHECK(listing.filenames == std::vector<std::string>{"cat/1.png", "dog/2.png"});
  CHECK(listing.labels == std::vector<int64_t>{0, 1});
  CHECK(warnings(listing).find("skipped the folder self") != std::string::npos);
}

TEST_CASE("self -> . with sub/loop -> .. ends at once, naming both links") {
  TempDir dir;
  png(dir / "other/y.png", 1);
  png(dir / "sub/x.png", 2);
  link(".", dir / "self");
  link("..", dir / "sub/loop");
  const auto start = std::chrono::steady_clock::now();
  const FolderListing listing = list_image_folder(dir.path());
  const double seconds = seconds_since(start);
  CHECK_MESSAGE(seconds < 1.0, "listing took " << seconds << " s");
  CHECK(listing.class_names == std::vector<std::string>{"other", "sub"});
  CHECK(listing.filenames == std::vector<std::string>{"other/y.png", "sub/x.png"});
  INFO(warnings(listing));
  REQUIRE(listing.warnings.size() == 2);
  CHECK(contains(listing.warnings[0], "skipped the folder self"));
  CHECK(contains(listing.warnings[1], "skipped the folder sub/loop"));
  CHECK(contains(listing.warnings[1], "it is the folder '.' again"));
  CHECK(contains(listing.warnings[1], "symbolic-link loop"));
  // The decode-once cache sees the same two images.
  FolderDatasetOptions options;
  options.image_size = 4;
  options.progress = false;
  CHECK(load_image_folder(dir.path(), options).dataset.size() == 2);
}

TEST_CASE("links to folders and files are followed; a second path to a folder is skipped") {
  TempDir dir, outside;
  png(outside / "p.png", 1);
  png(outside / "q.png", 2);
  png(outside / "deep/r.png", 3);
  link(outside.path(), dir / "cat");        // a class folder elsewhere
  link(outside.path(), dir / "cat_again");  // the same folder a second time
  png(dir / "dog/own.png", 4);
  link(outside / "q.png", dir / "dog/q_link.png");      // a link to a file
  link(outside / "missing.png", dir / "dog/gone.png");  // a link to nothing
  const FolderListing listing = list_image_folder(dir.path());
  CHECK(listing.class_names == std::vector<std::string>{"cat", "dog"});
  CHECK(listing.filenames == std::vector<std::string>{"cat/p.png", "cat/q.png", "cat/deep/r.png",
                                                      "dog/gone.png", "dog/own.png",
                                                      "dog/q_link.png"});
  CHECK(listing.labels == std::vector<int64_t>{0, 0, 0, 1, 1, 1});
  REQUIRE(listing.warnings.size() == 1);
  CHECK(contains(listing.warnings[0], "skipped the folder cat_again"));
  CHECK(contains(listing.warnings[0], "it is the folder 'cat' again, listed already"));
  // The dangling link is listed (as os.walk lists it) and reported as unreadable.
  const ImageCheck check = check_images(dir.path(), 1, /*progress=*/false);
  REQUIRE(check.corrupt.size() == 1);
  CHECK(check.corrupt[0].filename == "dog/gone.png");
  CHECK(contains(check.corrupt[0].reason, "cannot open"));
  CHECK(check.healthy.size() == 5);
}

TEST_CASE("within a class, torchvision's order: by folder, then by name") {
  TempDir dir;
  png(dir / "cat/z.png");
  png(dir / "cat/sub/a.png");
  png(dir / "cat/sub b/c.png");
  png(dir / "cat/a.png");
  png(dir / "cat/sub/x/d.png");
  const FolderListing listing = list_image_folder(dir.path());
  // What torchvision's ImageFolder lists for these files (checked with torchvision 0.14).
  CHECK(listing.filenames == std::vector<std::string>{"cat/a.png", "cat/z.png", "cat/sub/a.png",
                                                      "cat/sub b/c.png", "cat/sub/x/d.png"});
}

TEST_CASE("images beside class subfolders are left out with a warning that counts them") {
  TempDir dir;
  for (const char* name : {"a.png", "b.png", "c.png", "d.jpg", "e.bmp"}) png(dir / name);
  write_file(dir / "notes.txt", {'x'});
  png(dir / "cat/1.png");
  const FolderListing listing = list_image_folder(dir.path());
  CHECK(listing.filenames == std::vector<std::string>{"cat/1.png"});
  REQUIRE(listing.warnings.size() == 1);
  CHECK(contains(listing.warnings[0], "ignored 5 image files at the top of " + dir.path()));
  CHECK(contains(listing.warnings[0], "(a.png, b.png, c.png, ...)"));
  CHECK(contains(listing.warnings[0], "one class per subfolder"));
  SUBCASE("one file is named alone") {
    TempDir one;
    png(one / "lonely.png");
    png(one / "cat/1.png");
    const FolderListing l = list_image_folder(one.path());
    REQUIRE(l.warnings.size() == 1);
    CHECK(contains(l.warnings[0], "ignored 1 image file at the top"));
    CHECK(contains(l.warnings[0], "(lonely.png)"));
  }
  SUBCASE("a folder without stray files has no warning") {
    TempDir clean;
    png(clean / "cat/1.png");
    CHECK(list_image_folder(clean.path()).warnings.empty());
  }
}
