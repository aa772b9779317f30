// NT-Xent forward + backward time (plain mode, lightly's semantics), Lumen against PyTorch on the
// same device: median of timed iterations after a warm-up.
//
// usage: bench_ntxent [batch=512] [dim=128] [device=cpu|cuda] [iterations=20]
// PyTorch's figure comes from bench/ntxent_torch.py (run when python3 can import torch; run this
// program from the repository root).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/torch_baseline.h"
#include "engine/core/device.h"
#include "losses/ntxent.h"

using namespace lumen;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The PyTorch median in ms, or a negative value when PyTorch is not available.
double torch_ms(int64_t batch, int64_t dim, const std::string& device, int iterations) {
  const std::string python = bench::find_torch_python("torch");
  if (python.empty()) return -1;
  const std::string cmd = bench::torch_command(python, "ntxent_torch.py", "") +
                          std::to_string(batch) + " " + std::to_string(dim) + " " + device + " " +
                          std::to_string(iterations) + " 2>/dev/null";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return -1;
  double ms = -1;
  if (std::fscanf(pipe, "%lf", &ms) != 1) ms = -1;
  pclose(pipe);
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const int64_t batch = argc > 1 ? std::atoll(argv[1]) : 512;
    const int64_t dim = argc > 2 ? std::atoll(argv[2]) : 128;
    const std::string device_name = argc > 3 ? argv[3] : "cpu";
    const int iterations = argc > 4 ? std::atoi(argv[4]) : 20;
    const Device device = parse_device(device_name);
    Tensor out0 = Tensor::normal({batch, dim}, 1, 0, 1, DType::f32, device).set_requires_grad();
    Tensor out1 = Tensor::normal({batch, dim}, 2, 0, 1, DType::f32, device).set_requires_grad();
    NTXentLoss loss_fn;
    std::vector<double> times;
    for (int i = 0; i < iterations + 3; ++i) {
      const auto start = std::chrono::steady_clock::now();
      Tensor loss = loss_fn(out0, out1);
      loss.backward();
      out0.grad().to(Device::cpu());  // waits for the GPU
      const auto stop = std::chrono::steady_clock::now();
      if (i >= 3) times.push_back(std::chrono::duration<double, std::milli>(stop - start).count());
      out0.set_grad(Tensor());
      out1.set_grad(Tensor());
    }
    const double ms = median(times);
    // Work: similarity GEMM and the two backward GEMMs, 2 * (2B)^2 * D flops each.
    const double flops = 3.0 * 2.0 * double(2 * batch) * double(2 * batch) * double(dim);
    std::printf("ntxent fwd+bwd  batch %lld  dim %lld  %s: lumen %.3f ms (%.1f GFLOP/s)",
                (long long)batch, (long long)dim, device.str().c_str(), ms, flops / ms / 1e6);
    const double torch = torch_ms(batch, dim, device_name, iterations);
    if (torch > 0) {
      std::printf("  pytorch %.3f ms  speedup %.2fx\n", torch, torch / ms);
    } else {
      std::printf("  (pytorch not available)\n");
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_ntxent: %s\n", e.what());
    return 1;
  }
}
