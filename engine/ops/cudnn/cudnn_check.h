// cuDNN's status check and typed handle access, for the cuDNN files of this folder only (every
// cuDNN call lives in engine/ops/cudnn/, so that the API can change in one place).
#pragma once

#include <cudnn.h>

#include "engine/core/cuda_check.h"
#include "engine/core/device.h"

#define LUMEN_CUDNN_CHECK(expr)                                                                \
  do {                                                                                         \
    cudnnStatus_t lumen_status_ = (expr);                                                      \
    if (lumen_status_ != CUDNN_STATUS_SUCCESS) {                                               \
      char lumen_msg_[512] = {0};                                                              \
      cudnnGetLastErrorString(lumen_msg_, sizeof(lumen_msg_));                                 \
      ::lumen::detail::throw_error(                                                            \
          __FILE__, __LINE__,                                                                  \
          ::lumen::detail::concat(#expr, " failed: ", cudnnGetErrorString(lumen_status_), " ", \
                                  lumen_msg_));                                                \
    }                                                                                          \
  } while (0)

namespace lumen {
inline cudnnHandle_t cudnn_handle(CudaContext& ctx) {
  return static_cast<cudnnHandle_t>(ctx.cudnn());
}
}  // namespace lumen
