// Exact k-nearest-neighbour search throughput (queries per second), Lumen's CosineIndex against
// FAISS's exact flat index (IndexFlatIP on the normalised bank, when Lumen is built with FAISS)
// and PyTorch's matmul + topk (bench/search_torch.py) on the same bank and queries, in the same
// run, with the neighbour lists compared.
//
// usage: bench_search [bank=1000000] [dim=128] [queries=1000] [k=10] [device=auto|cpu|cuda]
//                     [runs=3]   (auto: the GPU when one is usable)
// The bank: 1000 gaussian clusters (centres N(0, 1), spread 0.5 per coordinate); queries drawn
// the same way.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/torch_baseline.h"
#include "engine/autograd/tape.h"
#include "engine/core/device.h"
#include "engine/ops/normalize.h"
#include "engine/search/cosine_index.h"
#include "kernels/philox.cuh"

#if defined(LUMEN_WITH_FAISS)
#include <faiss/IndexFlat.h>
#endif

using namespace lumen;

namespace {

Tensor clustered(int64_t n, int64_t dim, uint64_t seed) {
  Tensor x = Tensor::normal({n, dim}, seed);
  const int64_t clusters = 1000;
  const std::vector<float> centres = Tensor::normal({clusters, dim}, 2).to_floats();
  float* v = x.data<float>();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = int64_t(philox4x32(seed, 1, uint64_t(i)).v[0] % uint32_t(clusters));
    for (int64_t j = 0; j < dim; ++j) v[i * dim + j] = centres[c * dim + j] + 0.5f * v[i * dim + j];
  }
  return x;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

template <typename F>
double median_seconds(int runs, F&& f) {
  f();  // warm-up
  std::vector<double> t;
  for (int r = 0; r < runs; ++r) {
    const auto start = std::chrono::steady_clock::now();
    f();
    t.push_back(seconds_since(start));
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// Fraction of reference neighbours that `found` lists too (both (Q, k) row-major).
double agreement(const std::vector<int64_t>& found, const std::vector<int64_t>& reference,
                 int64_t k) {
  if (found.size() != reference.size() || found.empty()) return 0;
  int64_t hits = 0;
  for (size_t q = 0; q < found.size() / size_t(k); ++q) {
    for (int64_t j = 0; j < k; ++j) {
      hits += std::count(found.begin() + long(q * k), found.begin() + long((q + 1) * k),
                         reference[q * size_t(k) + size_t(j)]);
    }
  }
  return double(hits) / double(reference.size());
}

void write_raw(const std::string& path, const Tensor& x) {
  FILE* f = std::fopen(path.c_str(), "wb");
  LUMEN_CHECK(
      f && std::fwrite(x.data<float>(), sizeof(float), size_t(x.numel()), f) == size_t(x.numel()),
      "cannot write ", path);
  std::fclose(f);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const int64_t n = argc > 1 ? std::atoll(argv[1]) : 1000000;
    const int64_t dim = argc > 2 ? std::atoll(argv[2]) : 128;
    const int64_t nq = argc > 3 ? std::atoll(argv[3]) : 1000;
    const int64_t k = argc > 4 ? std::atoll(argv[4]) : 10;
    const std::string asked = argc > 5 ? argv[5] : "auto";
    const std::string device_name =
        asked != "auto" ? asked : (cuda_device_count() > 0 ? "cuda" : "cpu");
    const int runs = argc > 6 ? std::atoi(argv[6]) : 3;
    const Device device = parse_device(device_name);
    const Tensor bank = clustered(n, dim, 5), queries = clustered(nq, dim, 6);
    // PyTorch: one matmul per block of queries, as large as Lumen's GPU blocks.
    const int64_t block = std::max<int64_t>(1, int64_t(CosineIndex::kGpuBlockBytes) / (n * 4));

    const CosineIndex index(bank.to(device));
    Neighbors nn;
    const double lumen_s = median_seconds(runs, [&] { nn = index.search(queries, k); });
    const std::vector<int64_t> lumen_rows(nn.indices.data<int64_t>(),
                                          nn.indices.data<int64_t>() + nq * k);
    std::printf(
        "exact k-NN, bank %lld x %lld, %lld queries, k=%lld, %s, %d threads: lumen %.0f "
        "queries/s (%.3f s)\n",
        (long long)n, (long long)dim, (long long)nq, (long long)k, device.str().c_str(),
        omp_get_max_threads(), double(nq) / lumen_s, lumen_s);

#if defined(LUMEN_WITH_FAISS)
    {
      NoGrad no_grad;
      const Tensor unit_bank = l2_normalize_rows(bank), unit_queries = l2_normalize_rows(queries);
      faiss::IndexFlatIP flat(static_cast<faiss::Index::idx_t>(dim));
      flat.add(n, unit_bank.data<float>());
      std::vector<float> sim(size_t(nq * k));
      std::vector<faiss::Index::idx_t> rows(size_t(nq * k));
      const double faiss_s = median_seconds(
          runs, [&] { flat.search(nq, unit_queries.data<float>(), k, sim.data(), rows.data()); });
      const std::vector<int64_t> faiss_rows(rows.begin(), rows.end());
      std::printf(
          "  faiss IndexFlatIP (cpu) %.0f queries/s (%.3f s), lumen %.2fx, same "
          "neighbours %.4f\n",
          double(nq) / faiss_s, faiss_s, faiss_s / lumen_s, agreement(lumen_rows, faiss_rows, k));
    }
#else
    std::printf("  faiss: this Lumen was built without FAISS\n");
#endif

    const std::string python = bench::find_torch_python("torch, numpy");
    if (python.empty()) {
      std::printf("  %s\n", bench::no_torch_python("torch, numpy").c_str());
      return 0;
    }
    const std::string base = "/tmp/bench_search_" + std::to_string(::getpid());
    write_raw(base + ".bank.f32", bank);
    write_raw(base + ".queries.f32", queries);
    const std::string cmd =
        bench::torch_command(python, "search_torch.py",
                             base + ".bank.f32 " + std::to_string(n) + " " + base +
                                 ".queries.f32 " + std::to_string(nq) + " " + std::to_string(dim) +
                                 " " + std::to_string(k) + " " + std::to_string(block) + " " +
                                 device_name + " " + std::to_string(runs)) +
        " 2>/dev/null";
    FILE* pipe = popen(cmd.c_str(), "r");
    double torch_s = -1;
    std::vector<int64_t> torch_rows;
    if (pipe && std::fscanf(pipe, "%lf", &torch_s) == 1) {
      long long i;
      while (std::fscanf(pipe, "%lld", &i) == 1) torch_rows.push_back(i);
    }
    if (pipe) pclose(pipe);
    std::remove((base + ".bank.f32").c_str());
    std::remove((base + ".queries.f32").c_str());
    if (torch_s > 0) {
      std::printf(
          "  pytorch matmul + topk (%s) %.0f queries/s (%.3f s), lumen %.2fx, same "
          "neighbours %.4f\n",
          device_name.c_str(), double(nq) / torch_s, torch_s, torch_s / lumen_s,
          agreement(lumen_rows, torch_rows, k));
    } else {
      std::printf("  pytorch run failed\n");
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_search: %s\n", e.what());
    return 1;
  }
}
