// Views per second of the SimCLR view transform.
//   CPU: Lumen's reference pipeline (all OpenMP threads, and one thread) at 32x32 and 224x224
//        outputs, beside lightly's torchvision/PIL transform on the same images in the same run
//        (bench_augment_torchvision.py, when python3 can import torch; set LUMEN_PYTHON to choose
//        the interpreter), with the ratio.
//   GPU: the fused kernel's time for a 512-image 32x32 batch (both views, bf16), with CUDA events.
#include <omp.h>

#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "augment/transform.h"
#include "bench/torch_baseline.h"

#if defined(LUMEN_WITH_CUDA)
#include <cuda_runtime_api.h>
#endif

using namespace lumen;

namespace {

// torchvision's views/s on the batch, or a negative value when it could not run.
double torchvision_views_per_s(const std::string& python, const Tensor& batch, int out, int reps) {
  const std::string raw = "/tmp/lumen_bench_augment_" + std::to_string(::getpid()) + ".raw";
  {
    std::ofstream f(raw, std::ios::binary);
    f.write(reinterpret_cast<const char*>(batch.data<uint8_t>()), std::streamsize(batch.nbytes()));
  }
  const std::string cmd = bench::torch_command(python, "bench_augment_torchvision.py", raw) + " " +
                          std::to_string(batch.size(0)) + " " + std::to_string(batch.size(1)) +
                          " " + std::to_string(batch.size(2)) + " " + std::to_string(out) + " " +
                          std::to_string(reps);
  double result = -1;
  if (FILE* pipe = popen(cmd.c_str(), "r")) {
    char line[256];
    while (fgets(line, sizeof(line), pipe)) std::sscanf(line, "views_per_s %lf", &result);
    pclose(pipe);
  }
  std::remove(raw.c_str());
  return result;
}

// Median seconds of `reps` runs of fn (after one warm-up run).
template <typename Fn>
double median_seconds(int reps, Fn&& fn) {
  fn();
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

Tensor random_batch(int64_t b, int h, int w) {
  return Tensor::uniform({b, h, w, 3}, 11, 0, 256, DType::f32).to(DType::u8);
}

Tensor indices_for(int64_t b, Device device) {
  std::vector<double> v;
  for (int64_t i = 0; i < b; ++i) v.push_back(double(i));
  return Tensor::from_vector(v, {b}, DType::i64, device);
}

void bench_cpu(const std::string& python, int64_t b, int src, int out, int reps) {
  const Tensor batch = random_batch(b, src, src);
  const Tensor idx = indices_for(b, Device::cpu());
  const TransformConfig config = simclr_transform(out);
  uint64_t epoch = 0;
  auto run = [&] { make_views(batch, idx, 1, epoch++, config, DType::f32); };
  const int threads = omp_get_max_threads();
  const double all = 2.0 * double(b) / median_seconds(reps, run);
  omp_set_num_threads(1);
  const double one = 2.0 * double(b) / median_seconds(reps, run);
  omp_set_num_threads(threads);
  std::printf(
      "cpu  simclr %3dx%-3d from %3dx%-3d batch %4lld: lumen %9.1f views/s (%d threads), "
      "%9.1f views/s (1 thread)",
      out, out, src, src, (long long)b, all, threads, one);
  const double tv = python.empty() ? -1 : torchvision_views_per_s(python, batch, out, reps);
  if (tv > 0) {
    std::printf(" | torchvision+PIL %8.1f views/s (1 process) | ratio %.1fx (1 thread vs 1)\n", tv,
                one / tv);
  } else {
    std::printf(" | torchvision: not available\n");
  }
}

void bench_gpu() {
#if defined(LUMEN_WITH_CUDA)
  std::string reason;
  if (cuda_device_count(&reason) == 0) {
    std::printf("gpu  skipped: no CUDA device (%s)\n", reason.c_str());
    return;
  }
  const Device gpu = Device::cuda(0);
  const int64_t b = 512;
  const Tensor batch = random_batch(b, 32, 32).to(gpu);
  const Tensor idx = indices_for(b, gpu);
  const TransformConfig config = simclr_transform(32);
  std::vector<Tensor> out;
  for (int v = 0; v < 2; ++v) out.push_back(Tensor::empty({b, 32, 32, 3}, DType::bf16, gpu));
  cudaStream_t stream = stream_of(batch);
  for (int w = 0; w < 5; ++w) make_views_into(batch, idx, 1, w, config, out);
  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  std::vector<float> ms;
  for (int r = 0; r < 50; ++r) {
    cudaEventRecord(start, stream);
    make_views_into(batch, idx, 1, 100 + r, config, out);
    cudaEventRecord(stop, stream);
    cudaEventSynchronize(stop);
    float t = 0;
    cudaEventElapsedTime(&t, start, stop);
    ms.push_back(t);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  std::sort(ms.begin(), ms.end());
  const double median = ms[ms.size() / 2];
  const double bytes = double(b) * 32 * 32 * 3 * (1 + 2 * 2);  // u8 in, two bf16 views out
  std::printf(
      "gpu  simclr 32x32 batch 512, both views bf16: %.3f ms median (%.0f views/s, %.1f "
      "GB/s of compulsory traffic)\n",
      median, 2.0 * b / (median * 1e-3), bytes / (median * 1e-3) / 1e9);
#else
  std::printf("gpu  skipped: built without CUDA\n");
#endif
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string python = bench::find_torch_python("torch, torchvision, PIL");
    if (python.empty())
      std::printf("(%s)\n", bench::no_torch_python("torch, torchvision, PIL").c_str());
    bench_cpu(python, 512, 32, 32, 5);
    bench_cpu(python, 32, 256, 224, 3);
    bench_gpu();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_augment: %s\n", e.what());
    return 1;
  }
  return 0;
}
