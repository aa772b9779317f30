#include "engine/ops/cudnn/cudnn_handle.h"

#include "engine/ops/cudnn/cudnn_check.h"

namespace lumen {

void* cudnn_create_handle(cudaStream_t stream) {
  cudnnHandle_t handle = nullptr;
  LUMEN_CUDNN_CHECK(cudnnCreate(&handle));
  const cudnnStatus_t status = cudnnSetStream(handle, stream);
  if (status != CUDNN_STATUS_SUCCESS) {
    cudnnDestroy(handle);
    LUMEN_CUDNN_CHECK(status);
  }
  return handle;
}

void cudnn_destroy_handle(void* handle) noexcept {
  if (handle != nullptr) cudnnDestroy(static_cast<cudnnHandle_t>(handle));
}

}  // namespace lumen
