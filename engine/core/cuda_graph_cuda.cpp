// CudaGraph on the CUDA runtime: stream capture on the context's stream, one instantiation, and
// graph launches on the same stream.
#include <cstdio>
#include <exception>
#include <vector>

#include "engine/core/cuda_check.h"
#include "engine/core/cuda_graph.h"

namespace lumen {

struct CudaGraph::Impl {
  std::shared_ptr<CudaContext> ctx;
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  std::vector<void*> retained;  // blocks from before the capture that the graph may read
};

CudaGraph::CudaGraph() : impl_(std::make_unique<Impl>()) {}

CudaGraph::~CudaGraph() { clear(); }

void CudaGraph::clear() {
  Impl& g = *impl_;
  if (!g.ctx) return;
  cudaSetDevice(g.ctx->device());
  // A replay may still be running; its memory and the retained blocks must outlive it.
  const cudaError_t status = cudaStreamSynchronize(g.ctx->stream());
  if (status != cudaSuccess) {
    std::fprintf(stderr, "lumen: CUDA error while releasing a graph: %s\n",
                 cudaGetErrorString(status));
  }
  if (g.exec) cudaGraphExecDestroy(g.exec);
  if (g.graph) cudaGraphDestroy(g.graph);
  g.ctx->release_retained(g.retained);
  cudaDeviceGraphMemTrim(g.ctx->device());  // return the graph's intermediates to the driver
  g = Impl{};
}

void CudaGraph::capture(const std::shared_ptr<CudaContext>& ctx,
                        const std::function<void()>& body) {
  LUMEN_CHECK(ctx, "CudaGraph::capture: no CUDA context");
  clear();
  std::vector<void*> retained;
  ctx->begin_capture();
  try {
    body();
  } catch (...) {
    // End the capture (the stream must leave capture mode) and discard it; report the body's own
    // error, which says more than the capture's.
    try {
      void* graph = ctx->end_capture(&retained);
      cudaGraphDestroy(static_cast<cudaGraph_t>(graph));
      ctx->release_retained(retained);
    } catch (const std::exception&) {
    }
    throw;
  }
  cudaGraph_t graph = static_cast<cudaGraph_t>(ctx->end_capture(&retained));
  cudaGraphExec_t exec = nullptr;
  const cudaError_t status = cudaGraphInstantiate(&exec, graph, 0);
  if (status != cudaSuccess) {
    cudaGetLastError();
    cudaGraphDestroy(graph);
    ctx->release_retained(retained);
    LUMEN_FAIL("CUDA graph instantiation failed: ", cudaGetErrorString(status));
  }
  impl_->ctx = ctx;
  impl_->graph = graph;
  impl_->exec = exec;
  impl_->retained = std::move(retained);
}

void CudaGraph::replay() {
  LUMEN_CHECK(captured(), "CudaGraph::replay: nothing was captured");
  LUMEN_CUDA_CHECK(cudaGraphLaunch(impl_->exec, impl_->ctx->stream()));
}

bool CudaGraph::captured() const { return impl_->exec != nullptr; }

size_t CudaGraph::node_count() const {
  if (!impl_->graph) return 0;
  size_t count = 0;
  LUMEN_CUDA_CHECK(cudaGraphGetNodes(impl_->graph, nullptr, &count));
  return count;
}

}  // namespace lumen
