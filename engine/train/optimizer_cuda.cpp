// The optimizer's per-step scalars go to the GPU with an asynchronous copy: from pageable memory
// the copy is staged before cudaMemcpyAsync returns, so the host struct can be reused at once and
// nothing waits for the GPU.
#include <cuda_runtime_api.h>

#include "engine/core/tensor.h"
#include "kernels/optim.cuh"

namespace lumen {

void upload_optimizer_scalars(const Tensor& dst, const kernels::OptimizerHyper& scalars) {
  LUMEN_CHECK(dst.nbytes() == sizeof(scalars), "optimizer scalars buffer has the wrong size");
  LUMEN_CUDA_CHECK(cudaMemcpyAsync(dst.raw_data(), &scalars, sizeof(scalars),
                                   cudaMemcpyHostToDevice, stream_of(dst)));
}

}  // namespace lumen
