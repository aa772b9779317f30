#include "engine/ops/gemm.h"

#include <cblas.h>

namespace lumen {

GemmDims gemm_dims(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b, const char* op) {
  check_defined(a, op);
  check_defined(b, op);
  check_same_device(a, b, op);
  check_same_dtype(a, b, op);
  LUMEN_CHECK(dtype_is_float(a.dtype()), op, ": dtype ", dtype_name(a.dtype()),
              " is not supported");
  LUMEN_CHECK((a.ndim() == 2 && b.ndim() == 2) || (a.ndim() == 3 && b.ndim() == 3), op,
              ": expects two matrices (M, K) @ (K, N) or two batches (B, M, K) @ (B, K, N), got ",
              a.str(), " and ", b.str());
  const bool batched = a.ndim() == 3;
  GemmDims d;
  d.batch = batched ? a.size(0) : 1;
  LUMEN_CHECK(!batched || b.size(0) == d.batch, op, ": batch sizes differ: ", a.str(), " and ",
              b.str());
  const int64_t a_rows = a.size(-2), a_cols = a.size(-1);
  const int64_t b_rows = b.size(-2), b_cols = b.size(-1);
  d.m = trans_a ? a_cols : a_rows;
  d.k = trans_a ? a_rows : a_cols;
  const int64_t k_b = trans_b ? b_cols : b_rows;
  d.n = trans_b ? b_rows : b_cols;
  LUMEN_CHECK(d.k == k_b, op, ": inner dimensions differ: ", a.str(), (trans_a ? "^T" : ""), " @ ",
              b.str(), (trans_b ? "^T" : ""));
  return d;
}

void gemm(const Tensor& a, const Tensor& b, Tensor& c, bool trans_a, bool trans_b, double alpha,
          double beta) {
  const GemmDims d = gemm_dims(a, b, trans_a, trans_b, "gemm");
  check_same_device(a, c, "gemm");
  check_same_dtype(a, c, "gemm");
  const Shape expected = a.ndim() == 3 ? Shape{d.batch, d.m, d.n} : Shape{d.m, d.n};
  LUMEN_CHECK(c.shape() == expected, "gemm: output ", c.str(), " should have shape ",
              shape_str(expected));
  if (a.is_cuda()) {
    LUMEN_ON_CUDA(gemm_cuda(a, b, c, trans_a, trans_b, d, alpha, beta));
  } else {
    gemm_cpu(a, b, c, trans_a, trans_b, d, alpha, beta);
  }
}

void gemm_cpu(const Tensor& a, const Tensor& b, Tensor& c, bool trans_a, bool trans_b,
              const GemmDims& d, double alpha, double beta) {
  if (d.m == 0 || d.n == 0) return;
  const CBLAS_TRANSPOSE ta = trans_a ? CblasTrans : CblasNoTrans;
  const CBLAS_TRANSPOSE tb = trans_b ? CblasTrans : CblasNoTrans;
  const int64_t lda = trans_a ? d.m : d.k, ldb = trans_b ? d.k : d.n, ldc = d.n;
  const int64_t sa = d.m * d.k, sb = d.k * d.n, sc = d.m * d.n;
  if (a.dtype() == DType::f64) {
    for (int64_t i = 0; i < d.batch; ++i) {
      cblas_dgemm(CblasRowMajor, ta, tb, d.m, d.n, d.k, alpha, a.data<double>() + i * sa, lda,
                  b.data<double>() + i * sb, ldb, beta, c.data<double>() + i * sc, ldc);
    }
    return;
  }
  // f32 directly; bf16 / f16 through f32 copies.
  const bool narrow = a.dtype() != DType::f32;
  Tensor a32 = narrow ? a.to(DType::f32) : a;
  Tensor b32 = narrow ? b.to(DType::f32) : b;
  Tensor c32 = narrow ? (beta != 0 ? c.to(DType::f32) : Tensor::empty(c.shape())) : c;
  for (int64_t i = 0; i < d.batch; ++i) {
    cblas_sgemm(CblasRowMajor, ta, tb, d.m, d.n, d.k, float(alpha), a32.data<float>() + i * sa, lda,
                b32.data<float>() + i * sb, ldb, float(beta), c32.data<float>() + i * sc, ldc);
  }
  if (narrow) c.copy_from(c32);
}

}  // namespace lumen
