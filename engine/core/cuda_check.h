// Checks for the CUDA libraries (include only from *_cuda.cpp and *.cu files; cuDNN's is in
// engine/ops/cudnn/cudnn_check.h). Each throws
// lumen::Error naming the call, file:line and the library's own message.
#pragma once

#include <cublasLt.h>
#include <cublas_v2.h>
#include <nccl.h>

#include "kernels/common.h"

namespace lumen::detail {
inline const char* cublas_status_name(cublasStatus_t s) {
#if CUBLAS_VERSION >= 11000
  return cublasGetStatusName(s);
#else
  return "cuBLAS error";
#endif
}
}  // namespace lumen::detail

#define LUMEN_CUBLAS_CHECK(expr)                                                        \
  do {                                                                                  \
    cublasStatus_t lumen_status_ = (expr);                                              \
    if (lumen_status_ != CUBLAS_STATUS_SUCCESS) {                                       \
      ::lumen::detail::throw_error(                                                     \
          __FILE__, __LINE__,                                                           \
          ::lumen::detail::concat(                                                      \
              #expr, " failed: ", ::lumen::detail::cublas_status_name(lumen_status_))); \
    }                                                                                   \
  } while (0)

#define LUMEN_NCCL_CHECK(expr)                                                             \
  do {                                                                                     \
    ncclResult_t lumen_status_ = (expr);                                                   \
    if (lumen_status_ != ncclSuccess) {                                                    \
      ::lumen::detail::throw_error(                                                        \
          __FILE__, __LINE__,                                                              \
          ::lumen::detail::concat(#expr, " failed: ", ncclGetErrorString(lumen_status_))); \
    }                                                                                      \
  } while (0)
