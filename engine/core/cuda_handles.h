// Typed access to a CudaContext's library handles (CUDA builds only).
#pragma once

#include "engine/core/cuda_check.h"
#include "engine/core/device.h"

namespace lumen {
inline cublasHandle_t cublas_handle(CudaContext& ctx) {
  return static_cast<cublasHandle_t>(ctx.cublas());
}
inline cublasLtHandle_t cublaslt_handle(CudaContext& ctx) {
  return static_cast<cublasLtHandle_t>(ctx.cublaslt());
}
inline cudnnHandle_t cudnn_handle(CudaContext& ctx) {
  return static_cast<cudnnHandle_t>(ctx.cudnn());
}
}  // namespace lumen
