// Typed access to a CudaContext's cuBLAS handles (CUDA builds only; cuDNN's is in
// engine/ops/cudnn/cudnn_check.h).
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
}  // namespace lumen
