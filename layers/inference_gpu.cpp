// InferenceNet::GpuWorker: the inference program on a GPU, one CUDA context (stream) per worker,
// a CUDA graph per batch shape. Built in every configuration; without CUDA the constructor fails
// with require_device's message.
#include <cstdio>

#include "engine/autograd/tape.h"
#include "engine/core/cuda_graph.h"
#include "engine/ops/ops.h"
#include "layers/inference.h"

namespace lumen {

// The recording of one batch shape: the graph reads `input` and writes `output`.
struct InferenceNet::GpuWorker::Graph {
  CudaGraph graph;
  Tensor input, output;
  bool eager = false;  // the capture failed: this shape runs eagerly
};

InferenceNet::GpuWorker::GpuWorker(const InferenceNet& net, Device device, DType dtype,
                                   bool use_graphs)
    : net_(net), dtype_(dtype), use_graphs_(use_graphs) {
  LUMEN_CHECK(device.is_cuda(), "InferenceNet::GpuWorker needs a CUDA device, got ", device.str());
  require_device(device);
  ctx_ = CudaContext::create(device.index);
  convs_.reserve(net.convs_.size());
  for (const FusedConv& conv : net.convs_) convs_.emplace_back(conv, ctx_, dtype);
}

InferenceNet::GpuWorker::~GpuWorker() = default;

Tensor InferenceNet::GpuWorker::run(const Tensor& x) {
  NoGrad no_grad;
  std::vector<int> last_use(size_t(net_.values_), -1);
  for (size_t i = 0; i < net_.steps_.size(); ++i) {
    last_use[size_t(net_.steps_[i].input)] = int(i);
    if (net_.steps_[i].residual >= 0) last_use[size_t(net_.steps_[i].residual)] = int(i);
  }
  std::vector<Tensor> values(size_t(net_.values_));
  values[0] = x;
  for (size_t i = 0; i < net_.steps_.size(); ++i) {
    const Step& s = net_.steps_[i];
    const Tensor& in = values[size_t(s.input)];
    Tensor& out = values[size_t(s.output)];
    if (s.kind == Step::Kind::conv) {
      out = convs_[size_t(s.conv)].run(in, s.residual >= 0 ? values[size_t(s.residual)] : Tensor());
    } else if (s.kind == Step::Kind::max_pool) {
      out = max_pool2d(in, s.kernel, s.stride, s.padding);
    } else {
      out = global_avg_pool(in).to(DType::f32);
    }
    // Intermediates go back to the pool (in a graph: its memory) once read for the last time.
    for (size_t v = 1; v < values.size(); ++v) {
      if (last_use[v] == int(i)) values[v] = Tensor();
    }
  }
  return values[size_t(net_.steps_.back().output)];
}

Tensor InferenceNet::GpuWorker::forward(const Tensor& x) {
  LUMEN_CHECK(x.ndim() == 4 && x.size(3) == net_.in_channels(), "InferenceNet: expects (N, H, W, ",
              net_.in_channels(), ") images, got ", x.str());
  Tensor on_device = x;
  if (x.context() != ctx_.get() || x.dtype() != dtype_) {
    on_device = empty_in_context(ctx_, x.shape(), dtype_);
    on_device.copy_from(x);
  }
  if (!use_graphs_) return run(on_device).to(Device::cpu());
  std::unique_ptr<Graph>& g = graphs_[x.shape()];
  if (!g) {
    // The first call of a shape runs eagerly (cuDNN picks its algorithms, the pool fills), then
    // the program is recorded for the calls after it.
    Tensor out = run(on_device).to(Device::cpu());
    g = std::make_unique<Graph>();
    try {
      g->input = empty_in_context(ctx_, x.shape(), dtype_);
      g->output = empty_in_context(ctx_, {x.size(0), net_.feature_dim_}, DType::f32);
      g->graph.capture(ctx_, [&] { g->output.copy_from(run(g->input)); });
    } catch (const Error& e) {
      std::fprintf(stderr, "lumen: the inference program for %s runs eagerly: %s\n",
                   x.str().c_str(), e.what());
      g->eager = true;
    }
    return out;
  }
  if (g->eager) return run(on_device).to(Device::cpu());
  g->input.copy_from(on_device);
  g->graph.replay();
  return g->output.to(Device::cpu());
}

}  // namespace lumen
