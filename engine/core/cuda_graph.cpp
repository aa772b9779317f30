// CudaGraph in a CPU-only build: there is no graph to capture.
#include "engine/core/cuda_graph.h"

#if !defined(LUMEN_WITH_CUDA)
namespace lumen {

struct CudaGraph::Impl {};
CudaGraph::CudaGraph() = default;
CudaGraph::~CudaGraph() = default;
void CudaGraph::clear() {}
void CudaGraph::capture(const std::shared_ptr<CudaContext>&, const std::function<void()>&) {
  LUMEN_FAIL("CUDA graphs need a CUDA build of Lumen; this one was built without CUDA");
}
void CudaGraph::replay() { LUMEN_FAIL("CudaGraph::replay: nothing was captured"); }
bool CudaGraph::captured() const { return false; }
size_t CudaGraph::node_count() const { return 0; }

}  // namespace lumen
#endif
