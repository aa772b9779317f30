// Checks for the CUDA libraries (include only from *_cuda.cpp and *.cu files). Each throws
// lumen::Error naming the call, file:line and the library's own message.
#pragma once

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cudnn.h>
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

#define LUMEN_NCCL_CHECK(expr)                                                             \
  do {                                                                                     \
    ncclResult_t lumen_status_ = (expr);                                                   \
    if (lumen_status_ != ncclSuccess) {                                                    \
      ::lumen::detail::throw_error(                                                        \
          __FILE__, __LINE__,                                                              \
          ::lumen::detail::concat(#expr, " failed: ", ncclGetErrorString(lumen_status_))); \
    }                                                                                      \
  } while (0)
