// Embeds the images of a folder with lumen::Embedder, as a service linked against an installed
// Lumen would: the model opened once, the files embedded in batches, one line per image.
//   embed_folder input_dir=images/ [checkpoint=... model.name=... collate.input_size=...]
// Prints "<file> <dimension> <first values...>" per image, then a summary line.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "api/embedder.h"
#include "api/lumen.h"

int main(int argc, char** argv) {
  try {
    const lumen::Config config =
        lumen::embed_config(std::vector<std::string>(argv + 1, argv + argc));
    const std::string folder = config.require("input_dir");
    std::vector<std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(folder)) {
      std::string ext = entry.path().extension().string();
      std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
      for (const char* known :
           {".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".pgm", ".tif", ".tiff", ".webp"}) {
        if (entry.is_regular_file() && ext == known) files.push_back(entry.path().string());
      }
    }
    std::sort(files.begin(), files.end());
    const lumen::Embedder embedder(config);
    const lumen::Tensor e = embedder.embed_files(files);
    const std::vector<float> values = e.to_floats();
    for (size_t i = 0; i < files.size(); ++i) {
      std::printf("%s %lld", std::filesystem::path(files[i]).filename().c_str(),
                  static_cast<long long>(embedder.dim()));
      for (int64_t j = 0; j < std::min<int64_t>(4, embedder.dim()); ++j) {
        std::printf(" %.6f", values[i * size_t(embedder.dim()) + size_t(j)]);
      }
      std::printf("\n");
    }
    std::printf("embedded %zu images of %s with a %lld-dimensional %s\n", files.size(),
                folder.c_str(), static_cast<long long>(embedder.dim()),
                embedder.model_name().c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "embed_folder: %s\n", e.what());
    return 1;
  }
}
