// A CUDA graph: the GPU work of a piece of host code, recorded once and replayed with one launch.
//
//   CudaGraph graph;
//   graph.capture(ctx, [&] { y.copy_from(f(x)); });  // records f's kernels; runs nothing
//   x.copy_from(next_input);
//   graph.replay();                                  // runs them on ctx's stream, on x's new data
//
// The recorded work reads and writes the same addresses every replay, so inputs and outputs are
// tensors made before the capture, refilled and read between replays. Blocks the body allocates
// are the graph's own (its intermediates); the body must release them all (keep nothing it
// creates). Blocks from before the capture that the body releases stay reserved until the graph
// is destroyed, because the graph may read them. Host code in the body runs once, at capture.
//
// capture() throws a lumen::Error, with the graph left empty and the context usable, when the body
// throws or does something a graph cannot hold (a host sync such as item(), a copy from pageable
// memory); the caller can then run the body eagerly instead. A CPU-only build has no graphs:
// capture() throws there.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

#include "engine/core/device.h"

namespace lumen {

class CudaGraph {
 public:
  CudaGraph();
  ~CudaGraph();  // waits for a replay still running, then frees the graph and its memory
  CudaGraph(const CudaGraph&) = delete;
  CudaGraph& operator=(const CudaGraph&) = delete;

  // Records the work `body` queues on ctx's stream (replacing an earlier recording).
  void capture(const std::shared_ptr<CudaContext>& ctx, const std::function<void()>& body);
  // Queues the recorded work on the context's stream. Requires a successful capture().
  void replay();
  bool captured() const;
  size_t node_count() const;  // recorded operations (kernels, copies, allocations), 0 if none
  void clear();               // drops the recording (waiting for a replay still running)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lumen
