// k-center greedy (furthest point first) selection time, Lumen against the same greedy in PyTorch
// (bench/kcenter_torch.py) from the same first point, on the same data, with the selections
// compared.
//
// usage: bench_kcenter [n=1000000] [dim=128] [samples=1000] [data=gaussian|clusters]
//                      [device=auto|cpu|cuda] [runs=3]   (auto: the GPU when one is usable)
// data: gaussian rows, or 1000 gaussian clusters (centres N(0, 1), spread 0.5 per coordinate).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/torch_baseline.h"
#include "engine/autograd/tape.h"
#include "engine/core/device.h"
#include "engine/ops/normalize.h"
#include "engine/search/kcenter.h"
#include "kernels/philox.cuh"

using namespace lumen;

namespace {

Tensor make_data(int64_t n, int64_t dim, const std::string& kind) {
  Tensor x = Tensor::normal({n, dim}, 1);
  if (kind == "gaussian") return x;
  LUMEN_CHECK(kind == "clusters", "data=", kind, ": gaussian or clusters");
  const int64_t clusters = 1000;
  const std::vector<float> centres = Tensor::normal({clusters, dim}, 2).to_floats();
  float* v = x.data<float>();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = int64_t(philox4x32(3, 0, uint64_t(i)).v[0] % uint32_t(clusters));
    for (int64_t j = 0; j < dim; ++j) v[i * dim + j] = centres[c * dim + j] + 0.5f * v[i * dim + j];
  }
  return x;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// PyTorch's seconds and selection, or a negative time when PyTorch is not available.
double torch_run(const Tensor& x, int64_t samples, int64_t first, const std::string& device,
                 std::vector<int64_t>* selection) {
  const std::string python = bench::find_torch_python("torch, numpy");
  if (python.empty()) {
    std::printf("%s\n", bench::no_torch_python("torch, numpy").c_str());
    return -1;
  }
  const std::string path = "/tmp/bench_kcenter_" + std::to_string(::getpid()) + ".f32";
  FILE* f = std::fopen(path.c_str(), "wb");
  LUMEN_CHECK(
      f && std::fwrite(x.data<float>(), sizeof(float), size_t(x.numel()), f) == size_t(x.numel()),
      "cannot write ", path);
  std::fclose(f);
  const std::string cmd =
      bench::torch_command(python, "kcenter_torch.py",
                           path + " " + std::to_string(x.size(0)) + " " +
                               std::to_string(x.size(1)) + " " + std::to_string(samples) + " " +
                               std::to_string(first) + " " + device) +
      " 2>/dev/null";
  FILE* pipe = popen(cmd.c_str(), "r");
  double s = -1;
  if (pipe && std::fscanf(pipe, "%lf", &s) == 1) {
    long long i;
    while (std::fscanf(pipe, "%lld", &i) == 1) selection->push_back(i);
  }
  if (pipe) pclose(pipe);
  std::remove(path.c_str());
  return s;
}

// In double precision, the distance of row a to the nearest of `prefix` (unit rows).
double exact_distance(const Tensor& unit, const std::vector<int64_t>& prefix, int64_t a) {
  const int64_t d = unit.size(1);
  const float* v = unit.data<float>();
  double best = INFINITY;
  for (int64_t c : prefix) {
    double s = 0;
    for (int64_t j = 0; j < d; ++j) {
      const double diff = double(v[a * d + j]) - double(v[c * d + j]);
      s += diff * diff;
    }
    best = std::min(best, std::sqrt(s));
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const int64_t n = argc > 1 ? std::atoll(argv[1]) : 1000000;
    const int64_t dim = argc > 2 ? std::atoll(argv[2]) : 128;
    const int64_t samples = argc > 3 ? std::atoll(argv[3]) : 1000;
    const std::string data = argc > 4 ? argv[4] : "gaussian";
    const std::string asked = argc > 5 ? argv[5] : "auto";
    const std::string device_name =
        asked != "auto" ? asked : (cuda_device_count() > 0 ? "cuda" : "cpu");
    const int runs = argc > 6 ? std::atoi(argv[6]) : 3;
    const Device device = parse_device(device_name);
    const Tensor x = make_data(n, dim, data);
    KCenterRequest request;
    request.n_samples = samples;
    request.tie.resize(size_t(n));
    for (int64_t i = 0; i < n; ++i) request.tie[size_t(i)] = philox4x32(7, 0, uint64_t(i)).v[0];

    std::vector<int64_t> selected;
    std::vector<double> times;
    for (int run = 0; run < runs; ++run) {
      const auto start = std::chrono::steady_clock::now();
      NoGrad no_grad;
      const Tensor unit = l2_normalize_rows(x.to(device));
      selected = kcenter_greedy(unit, request);
      times.push_back(seconds_since(start));
    }
    std::sort(times.begin(), times.end());
    const double lumen_s = times[times.size() / 2];
    std::printf(
        "kcenter %lld x %lld %s, %lld samples, %s: lumen %.3f s (median of %d, with the "
        "normalisation)",
        (long long)n, (long long)dim, data.c_str(), (long long)samples, device.str().c_str(),
        lumen_s, runs);
    std::vector<int64_t> reference;
    const double torch_s = torch_run(x, samples, selected.front(), device_name, &reference);
    if (torch_s > 0) {
      size_t same = 0;
      while (same < selected.size() && same < reference.size() &&
             selected[same] == reference[same]) {
        ++same;
      }
      std::printf("  pytorch %.3f s  speedup %.2fx  same selection: %zu of %zu first picks\n",
                  torch_s, torch_s / lumen_s, same, selected.size());
      if (same < selected.size() && same < reference.size()) {
        // Both picks are furthest from the same prefix up to rounding: say how close they are.
        NoGrad no_grad;
        const Tensor unit = l2_normalize_rows(x);
        const std::vector<int64_t> prefix(selected.begin(), selected.begin() + long(same));
        std::printf(
            "  first difference at pick %zu: lumen's point %.9f, pytorch's %.9f from the "
            "selection (double precision)\n",
            same + 1, exact_distance(unit, prefix, selected[same]),
            exact_distance(unit, prefix, reference[same]));
      }
    } else {
      std::printf("  (pytorch not available)\n");
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_kcenter: %s\n", e.what());
    return 1;
  }
}
