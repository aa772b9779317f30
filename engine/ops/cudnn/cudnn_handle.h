// Creating and destroying a cuDNN handle, for CudaContext (which holds it as an opaque pointer, so
// that no cuDNN call leaves engine/ops/cudnn/). CUDA builds only.
#pragma once

#include <cuda_runtime_api.h>

namespace lumen {

// A new cuDNN handle whose work goes to `stream`; throws lumen::Error naming cuDNN's message.
void* cudnn_create_handle(cudaStream_t stream);
// Destroys a handle from cudnn_create_handle (nullptr: nothing to do). Never throws.
void cudnn_destroy_handle(void* handle) noexcept;

}  // namespace lumen
