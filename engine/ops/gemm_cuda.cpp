// gemm on cuBLAS. Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T, so the operands
// are passed to cuBLAS swapped.
#include "engine/core/cuda_handles.h"
#include "engine/ops/gemm.h"

namespace lumen {

void gemm_cuda(const Tensor& a, const Tensor& b, Tensor& c, bool trans_a, bool trans_b,
               const GemmDims& d, double alpha, double beta) {
  if (d.m == 0 || d.n == 0) return;
  cublasHandle_t handle = cublas_handle(*a.context());
  const cublasOperation_t op_a = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_b = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int64_t lda = trans_a ? d.m : d.k, ldb = trans_b ? d.k : d.n, ldc = d.n;
  const int64_t sa = d.m * d.k, sb = d.k * d.n, sc = d.m * d.n;

  cudaDataType_t type;
  cublasComputeType_t compute = CUBLAS_COMPUTE_32F;
  switch (a.dtype()) {
    case DType::f32:
      type = CUDA_R_32F;
      break;
    case DType::f64:
      type = CUDA_R_64F;
      compute = CUBLAS_COMPUTE_64F;
      break;
    case DType::bf16:
      type = CUDA_R_16BF;
      break;
    case DType::f16:
      type = CUDA_R_16F;
      break;
    default:
      LUMEN_FAIL("gemm: dtype ", dtype_name(a.dtype()), " is not supported on CUDA");
  }
  const float alpha32 = float(alpha), beta32 = float(beta);
  const void* alpha_ptr = compute == CUBLAS_COMPUTE_64F ? static_cast<const void*>(&alpha)
                                                        : static_cast<const void*>(&alpha32);
  const void* beta_ptr = compute == CUBLAS_COMPUTE_64F ? static_cast<const void*>(&beta)
                                                       : static_cast<const void*>(&beta32);
  LUMEN_CUBLAS_CHECK(cublasSetPointerMode(handle, CUBLAS_POINTER_MODE_HOST));
  LUMEN_CUBLAS_CHECK(cublasGemmStridedBatchedEx(
      handle, op_b, op_a, int(d.n), int(d.m), int(d.k), alpha_ptr, b.raw_data(), type, int(ldb), sb,
      a.raw_data(), type, int(lda), sa, beta_ptr, c.raw_data(), type, int(ldc), sc, int(d.batch),
      compute, CUBLAS_GEMM_DEFAULT));
}

}  // namespace lumen
