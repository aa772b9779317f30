// Decode + cache build throughput on a generated folder of JPEGs, beside PIL/torchvision decoding
// the same files in the same run (bench/decode_baseline.py, when a python3 with torch is found),
// and the time to list a folder of many files.
//   bench_decode [--images N] [--width W] [--height H] [--size S] [--threads T] [--list FILES]
#include <turbojpeg.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <omp.h>

#include "bench/torch_baseline.h"
#include "engine/data/image_cache.h"
#include "engine/data/image_folder.h"
#include "engine/data/parallel.h"

using namespace lumen::data;
namespace fs = std::filesystem;

namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// A photo-like test image: smooth gradients plus texture, so JPEG sizes are realistic.
std::vector<uint8_t> synthetic_photo(int w, int h, int seed) {
  std::vector<uint8_t> rgb(size_t(w) * h * 3);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const double t = 0.02 * x + 0.03 * y + seed;
      uint8_t* p = &rgb[(size_t(y) * w + x) * 3];
      const int noise = int((uint32_t(x * 73856093u ^ y * 19349663u ^ seed * 83492791u) >> 27));
      p[0] = uint8_t(std::clamp(int(128 + 100 * std::sin(t)) + noise, 0, 255));
      p[1] = uint8_t(std::clamp(int(128 + 100 * std::cos(1.3 * t)) + noise, 0, 255));
      p[2] = uint8_t(std::clamp(int(255.0 * x / w) - noise, 0, 255));
    }
  }
  return rgb;
}

void write_jpegs(const std::string& dir, int n, int w, int h) {
  tjhandle tj = tjInitCompress();
  for (int i = 0; i < n; ++i) {
    const std::vector<uint8_t> rgb = synthetic_photo(w, h, i);
    unsigned char* jpeg = nullptr;
    unsigned long size = 0;
    if (tjCompress2(tj, rgb.data(), w, 0, h, TJPF_RGB, &jpeg, &size, TJSAMP_420, 90, 0) != 0) {
      std::fprintf(stderr, "tjCompress2 failed: %s\n", tjGetErrorStr2(tj));
      std::exit(1);
    }
    char name[32];
    std::snprintf(name, sizeof(name), "/%06d.jpg", i);
    FILE* f = std::fopen((dir + name).c_str(), "wb");
    std::fwrite(jpeg, 1, size, f);
    std::fclose(f);
    tjFree(jpeg);
  }
  tjDestroy(tj);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, int> args = {{"--images", 400}, {"--width", 500}, {"--height", 375},
                                     {"--size", 224},   {"--threads", 0}, {"--list", 100000}};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!args.count(argv[i])) {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
    args[argv[i]] = std::atoi(argv[i + 1]);
  }
  const int n = args["--images"], size = args["--size"];
  const int threads = args["--threads"] > 0 ? args["--threads"] : omp_get_max_threads();
  char pattern[] = "/tmp/lumen_bench_decode_XXXXXX";
  const std::string root = mkdtemp(pattern);
  const std::string images = root + "/images";
  fs::create_directories(images);
  write_jpegs(images, n, args["--width"], args["--height"]);
  std::printf("bench_decode: %d JPEGs of %dx%d (quality 90, 4:2:0), storage size %d, %d threads\n",
              n, args["--width"], args["--height"], size, threads);

  // Decode only, one thread and all threads.
  const FolderListing listing = list_image_folder(images);
  auto decode_all = [&](int t) {
    const double start = now_seconds();
    parallel_for(int64_t(listing.size()), t,
                 [&](int64_t i) { decode_image_file(listing.path(size_t(i))); });
    return now_seconds() - start;
  };
  decode_all(threads);  // warm the page cache
  std::vector<double> one, all, build;
  for (int r = 0; r < 3; ++r) {
    one.push_back(decode_all(1));
    all.push_back(decode_all(threads));
  }
  // Decode + resize into the in-memory cache (what a training run does once).
  FolderDatasetOptions options;
  options.image_size = size;
  options.progress = false;
  std::vector<double> build_one;
  for (int r = 0; r < 3; ++r) {
    double start = now_seconds();
    options.num_threads = threads;
    load_image_folder(images, options);
    build.push_back(now_seconds() - start);
    start = now_seconds();
    options.num_threads = 1;
    load_image_folder(images, options);
    build_one.push_back(now_seconds() - start);
  }
  std::printf("\n%-44s %12s\n", "measurement (median of 3)", "images/s");
  std::printf("%-44s %12.0f\n", "lumen decode, 1 thread", n / median(one));
  std::printf("%-44s %12.0f\n", ("lumen decode, " + std::to_string(threads) + " threads").c_str(),
              n / median(all));
  std::printf("%-44s %12.0f\n", "lumen decode + resize + cache, 1 thread", n / median(build_one));
  std::printf("%-44s %12.0f\n",
              ("lumen decode + resize + cache, " + std::to_string(threads) + " threads").c_str(),
              n / median(build));

  const std::string python = lumen::bench::find_torch_python("torch, torchvision, PIL");
  if (python.empty()) {
    std::printf("(%s)\n", lumen::bench::no_torch_python("torch, torchvision, PIL").c_str());
  } else {
    const std::string cmd = lumen::bench::torch_command(
        python, "decode_baseline.py",
        images + " " + std::to_string(size) + " " + std::to_string(threads));
    FILE* pipe = popen(cmd.c_str(), "r");
    char line[512];
    std::map<std::string, double> rate;
    while (pipe && std::fgets(line, sizeof(line), pipe)) {
      char name[128];
      int count = 0;
      double seconds = 0;
      if (std::sscanf(line, "%127s %d %lf", name, &count, &seconds) == 3 && seconds > 0) {
        rate[name] = count / seconds;
        std::printf("%-44s %12.0f\n", (std::string("torch: ") + name).c_str(), count / seconds);
      }
    }
    if (pipe) pclose(pipe);
    const std::string many = "pil_resize_" + std::to_string(threads) + "proc";
    if (rate.count("pil_resize_1proc")) {
      std::printf("ratio lumen / PIL+torchvision, decode+resize, 1 thread:   %.2fx\n",
                  (n / median(build_one)) / rate["pil_resize_1proc"]);
    }
    if (rate.count(many)) {
      std::printf("ratio lumen / PIL+torchvision, decode+resize, %d workers: %.2fx\n", threads,
                  (n / median(build)) / rate[many]);
    }
    if (rate.count("torchvision_decode_jpeg_1proc")) {
      std::printf("ratio lumen / torchvision.io.decode_jpeg, decode, 1 thread: %.2fx\n",
                  (n / median(one)) / rate["torchvision_decode_jpeg_1proc"]);
    }
  }

  // Listing speed: many (empty) files in one folder.
  const int files = args["--list"];
  if (files > 0) {
    const std::string many = root + "/many";
    fs::create_directories(many);
    for (int i = 0; i < files; ++i) {
      char name[32];
      std::snprintf(name, sizeof(name), "/%07d.jpg", i);
      FILE* f = std::fopen((many + name).c_str(), "wb");
      if (f) std::fclose(f);
    }
    std::vector<double> t;
    for (int r = 0; r < 3; ++r) {
      const double start = now_seconds();
      const FolderListing big = list_image_folder(many);
      t.push_back(now_seconds() - start);
      if (int(big.size()) != files) std::printf("listing found %zu files\n", big.size());
    }
    std::printf("\nlisting %d files: %.3f s (median of 3)\n", files, median(t));
  }
  fs::remove_all(root);
  return 0;
}
