// Forward+backward images/s of a ResNet backbone in training mode (batch statistics), Lumen against
// PyTorch on the same device in the same run.
//
//   bench_resnet [--arch resnet-18] [--width 1] [--batch 32] [--image 32]
//                [--device cpu|cuda (default: cuda
//                when a device is present)]
//                [--dtype f32|bf16 (default: bf16 on the GPU, f32 on the CPU)] [--iters 5]
//                [--warmup 2] [--no-torch] [--no-graph]
//   With no --arch: the two standard problems, ResNet-18 (small-image stem) on 32x32 and
//   torchvision ResNet-50 on 224x224; small batches on the CPU (32 and 4), the batches on
//   the GPU (512 and 128, bf16).
// The PyTorch figure comes from bench/resnet_torch.py (python found as bench/torch_baseline.h
// says). GPU steps are timed on the host around a step that ends by reading the loss (a device
// sync). On the GPU Lumen is timed twice: eager, like PyTorch's step, and with forward and backward
// replayed from a CUDA graph, as `lumen train` runs them (--no-graph: eager only).
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/torch_baseline.h"
#include "engine/core/device.h"
#include "engine/ops/ops.h"
#include "engine/train/step_graph.h"
#include "layers/resnet.h"

using namespace lumen;

namespace {

struct Problem {
  std::string arch;
  int64_t batch, image;
  double width = 1.0;  // channel multiplier (64 * width stem channels)
};

struct Options {
  std::vector<Problem> problems;
  std::string device = cuda_device_count() > 0 ? "cuda" : "cpu";
  std::string dtype;  // default: bf16 on the GPU, f32 on the CPU
  int iters = 5, warmup = 2;
  bool torch = true;
  bool graph = true;
};

// graph: replay forward and backward from a CUDA graph captured during the warm-up steps.
double lumen_img_per_s(const Problem& p, const Options& o, bool graph) {
  const Device device = o.device == "cuda" ? Device::cuda(0) : Device::cpu();
  auto net = make_resnet(p.arch, p.width);
  ParameterBuffer params;
  finalize(*net, params, device, 0);
  net->train();
  Tensor x = Tensor::normal({p.batch, p.image, p.image, 3}, 1, 0, 1, DType::f32, device);
  if (o.dtype == "bf16") x = x.to(DType::bf16);
  StepGraph::Options graph_options;
  graph_options.enabled = graph;
  graph_options.warmup_steps = std::max(1, o.warmup - 1);  // captured within the warm-up steps
  StepGraph step_graph(graph_options);
  auto forward_backward = [&](const std::vector<Tensor>& in) {
    Tensor loss = sum(to_dtype((*net)(in[0]), DType::f32));
    loss.backward();
    return loss;
  };
  std::vector<double> times;
  for (int i = 0; i < o.warmup + o.iters; ++i) {
    // `ncu --profile-from-start off` sees the timed steps only, not the warm-up's algorithm search
    if (i == o.warmup && device.is_cuda()) cuda_profiler_start();
    const auto t0 = std::chrono::steady_clock::now();
    params.zero_grad();
    Tensor loss = step_graph.run({x}, forward_backward);
    (void)loss.item();  // waits for the device
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (i >= o.warmup) times.push_back(s);
  }
  if (device.is_cuda()) cuda_profiler_stop();
  std::sort(times.begin(), times.end());
  const double median = times[times.size() / 2];
  std::printf("lumen %s width %g batch %lld %lldx%lld %s %s threads %d%s: median %.1f ms\n",
              p.arch.c_str(), p.width, (long long)p.batch, (long long)p.image, (long long)p.image,
              o.device.c_str(), o.dtype.c_str(), omp_get_max_threads(), graph ? " CUDA graph" : "",
              median * 1000);
  if (graph && !step_graph.reason().empty()) {
    std::printf("  (no graph: %s)\n", step_graph.reason().c_str());
    return -1;
  }
  return double(p.batch) / median;
}

// Runs the PyTorch script; returns images/s, or a negative value when it could not run.
double torch_img_per_s(const Problem& p, const Options& o) {
  const std::string python = bench::find_torch_python("torch, torchvision");
  if (python.empty()) {
    std::printf("(%s)\n", bench::no_torch_python("torch, torchvision").c_str());
    return -1;
  }
  const std::string cmd =
      bench::torch_command(python, "resnet_torch.py", "--arch " + p.arch) + " --width " +
      std::to_string(p.width) + " --batch " + std::to_string(p.batch) + " --image " +
      std::to_string(p.image) + " --device " + o.device + " --dtype " + o.dtype + " --iters " +
      std::to_string(o.iters) + " --warmup " + std::to_string(o.warmup) + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return -1;
  char line[512];
  double value = -1;
  while (std::fgets(line, sizeof(line), pipe)) {
    if (std::sscanf(line, "torch_img_per_s %lf", &value) != 1) std::fputs(line, stdout);
  }
  pclose(pipe);
  return value;
}

Options parse(int argc, char** argv) {
  Options o;
  Problem custom{"", 0, 0, 1.0};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--arch")
      custom.arch = next();
    else if (a == "--width")
      custom.width = std::stod(next());
    else if (a == "--batch")
      custom.batch = std::stoll(next());
    else if (a == "--image")
      custom.image = std::stoll(next());
    else if (a == "--device")
      o.device = next();
    else if (a == "--dtype")
      o.dtype = next();
    else if (a == "--iters")
      o.iters = std::stoi(next());
    else if (a == "--warmup")
      o.warmup = std::stoi(next());
    else if (a == "--no-torch")
      o.torch = false;
    else if (a == "--no-graph")
      o.graph = false;
    else {
      std::fprintf(stderr, "unknown option %s (see the comment at the top of bench_resnet.cpp)\n",
                   a.c_str());
      std::exit(2);
    }
  }
  const bool gpu = o.device == "cuda";
  if (!custom.arch.empty()) {
    custom.batch = custom.batch ? custom.batch : 32;
    custom.image = custom.image ? custom.image : 32;
    o.problems.push_back(custom);
  } else {
    o.problems.push_back({"resnet-18", gpu ? 512 : 32, 32});
    o.problems.push_back({"torchvision/resnet50", gpu ? 128 : 4, 224});
  }
  if (o.dtype.empty()) o.dtype = gpu ? "bf16" : "f32";
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  std::vector<std::string> rows;
  for (const Problem& p : o.problems) {
    try {
      const double ours = lumen_img_per_s(p, o, false);
      double graphed = -1;
      if (o.graph && o.device == "cuda") {
        try {  // a failing graph run must not hide the eager figures
          graphed = lumen_img_per_s(p, o, true);
        } catch (const Error& e) {
          std::fprintf(stderr, "%s with a CUDA graph: %s\n", p.arch.c_str(), e.what());
        }
      }
      const double theirs = o.torch ? torch_img_per_s(p, o) : -1;
      auto text = [](double v) {
        char t[32] = "n/a";
        if (v > 0) std::snprintf(t, sizeof(t), "%.2f", v);
        return std::string(t);
      };
      char row[512];
      std::snprintf(
          row, sizeof(row), "| %s x%g %lldx%lld batch %lld | %s | %s | %.2f | %s | %s | %s | %s |",
          p.arch.c_str(), p.width, (long long)p.image, (long long)p.image, (long long)p.batch,
          o.device.c_str(), o.dtype.c_str(), ours, text(graphed).c_str(), text(theirs).c_str(),
          text(theirs > 0 ? ours / theirs : -1).c_str(),
          text(theirs > 0 && graphed > 0 ? graphed / theirs : -1).c_str());
      rows.push_back(row);
    } catch (const Error& e) {
      std::fprintf(stderr, "%s: %s\n", p.arch.c_str(), e.what());
      return 1;
    }
  }
  std::printf(
      "\n| problem | device | dtype | Lumen img/s | Lumen graph img/s | PyTorch img/s | "
      "Lumen / PyTorch | Lumen graph / PyTorch |\n");
  std::printf("| --- | --- | --- | --- | --- | --- | --- | --- |\n");
  for (const std::string& r : rows) std::printf("%s\n", r.c_str());
  return 0;
}
