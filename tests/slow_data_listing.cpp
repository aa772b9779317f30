// Listing a folder of 100,000 image files must take well under a second (the files are empty:
// listing never opens them). Slow because making the files takes a few seconds.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <chrono>
#include <cstdio>

#include "engine/data/image_folder.h"
#include "support/images.h"
#include "support/testing.h"

using namespace lumen;

TEST_CASE("listing 100k files takes well under a second") {
  testing::TempDir dir;
  const int classes = 10, per_class = 10000;
  for (int c = 0; c < classes; ++c) {
    const std::string sub = dir / ("class" + std::to_string(c));
    testing::write_file(sub + "/placeholder.txt", {});
    for (int i = 0; i < per_class; ++i) {
      char name[32];
      std::snprintf(name, sizeof(name), "/%06d.jpg", i);
      FILE* f = std::fopen((sub + name).c_str(), "wb");
      REQUIRE(f);
      std::fclose(f);
    }
  }
  const auto start = std::chrono::steady_clock::now();
  const data::FolderListing listing = data::list_image_folder(dir.path());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  MESSAGE("listed " << listing.size() << " files in " << seconds << " s");
  CHECK(listing.size() == size_t(classes * per_class));
  CHECK(listing.class_names.size() == size_t(classes));
  CHECK(listing.filenames[per_class] == "class1/000000.jpg");
  CHECK(seconds < 0.5);
}
