// The inference path of a backbone: a ResNet compiled into a fixed program of fused convolutions
// (engine/infer/fused_conv.h) with every batch norm folded into the convolution before it,
//   w' = w * gamma / sqrt(var + eps),   b' = beta - mean * gamma / sqrt(var + eps)
// (computed in double), the bias, the block's residual and the ReLU fused into the convolution's
// output pass, then max pool and global average pool. No autograd tape, no module state: the
// program holds its own copy of the weights, so one compiled net serves any number of threads,
// each with its own workspace (activation buffers sized once per batch shape, and scratch).
//
//   std::unique_ptr<InferenceNet> net = InferenceNet::compile(resnet);  // eval semantics
//   InferenceWorkspace ws;
//   net->forward_cpu(x, n, h, w, out, ws, threads);  // x: (N, H, W, 3) f32 -> out: (N, D) f32
//
// On a GPU each worker runs the same program through InferenceNet::GpuWorker (bf16 by default,
// cuDNN convolutions, a CUDA graph per batch shape).
#pragma once

#include <map>
#include <memory>
#include <vector>

#include "engine/infer/fused_conv.h"
#include "engine/infer/gpu_conv.h"
#include "layers/module.h"

namespace lumen {

// Activation buffers and scratch of one CPU worker.
struct InferenceWorkspace {
  InferScratch scratch;
  std::vector<Tensor> values;  // one buffer per program slot, grown to the largest shape seen
};

class InferenceNet {
 public:
  // The program of `backbone` when it is a ResNet of layers/resnet.h (torchvision's or the small
  // image variant, any width), with the weights and running statistics it holds now (on any
  // device); nullptr for any other module. The module is not changed.
  static std::unique_ptr<InferenceNet> compile(Module& backbone);

  int64_t feature_dim() const { return feature_dim_; }
  int64_t in_channels() const { return convs_.front().in_channels(); }

  // x: (N, H, W, C) f32 NHWC on the CPU -> out: (N, feature_dim) f32, overwritten.
  void forward_cpu(const float* x, int64_t n, int64_t h, int64_t w, float* out,
                   InferenceWorkspace& ws, int threads) const;

  // One GPU worker: its own CUDA context (stream), a copy of the folded weights in `dtype`, and a
  // CUDA graph per batch shape, captured on the shape's first call. Not thread-safe: one per
  // thread.
  class GpuWorker {
   public:
    GpuWorker(const InferenceNet& net, Device device, DType dtype, bool use_graphs);
    ~GpuWorker();
    GpuWorker(const GpuWorker&) = delete;
    GpuWorker& operator=(const GpuWorker&) = delete;
    // x: (N, H, W, C) normalised images in the worker's dtype, on the CPU or the worker's device
    // -> (N, feature_dim) f32 on the CPU.
    Tensor forward(const Tensor& x);
    const std::shared_ptr<CudaContext>& context() const { return ctx_; }

   private:
    Tensor run(const Tensor& x);  // the program on the worker's stream
    const InferenceNet& net_;
    std::shared_ptr<CudaContext> ctx_;
    DType dtype_;
    bool use_graphs_;
    std::vector<GpuConv> convs_;
    struct Graph;
    std::map<std::vector<int64_t>, std::unique_ptr<Graph>> graphs_;
  };

 private:
  struct Step {
    enum class Kind { conv, max_pool, avg_pool } kind;
    int conv = -1;                                // index into convs_ (conv)
    int input = 0, output = 0;                    // value ids; value 0 is the network's input
    int residual = -1;                            // value added before the ReLU (conv), or -1
    int64_t kernel = 0, stride = 1, padding = 0;  // max_pool
  };
  struct Shape3 {
    int64_t h, w, c;
  };

  InferenceNet() = default;
  int add_conv(Module& conv, Module& bn, bool relu, int input, int residual);
  int add_value();
  std::vector<Shape3> value_shapes(int64_t h, int64_t w) const;  // per value, for one image
  void assign_slots();

  std::vector<FusedConv> convs_;
  std::vector<Step> steps_;
  int values_ = 1;            // value 0: the input
  std::vector<int> slot_of_;  // per value: its buffer in the workspace (-1: the input)
  int slots_ = 0;
  int64_t feature_dim_ = 0;
};

}  // namespace lumen
