// General matrix multiply on row-major tensors, not recorded (the building block of matmul and of
// layers' backward passes):
//   c = alpha * op(a) @ op(b) + beta * c,  op(m) = m^T where the flag is set
//   a: (M, K) or (K, M) if trans_a, optionally with a leading batch dim (B, ...) on all three
//   b: (K, N) or (N, K) if trans_b;  c: (M, N)
// CPU: OpenBLAS (bf16/f16 go through f32 copies). CUDA: cuBLAS with fp32 accumulation (fp64 for
// f64), no TF32.
#pragma once

#include "engine/core/tensor.h"

namespace lumen {

struct GemmDims {
  int64_t batch, m, n, k;
};

// Checks operands and returns the problem size; `op` names the caller in messages.
GemmDims gemm_dims(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b, const char* op);

void gemm(const Tensor& a, const Tensor& b, Tensor& c, bool trans_a, bool trans_b,
          double alpha = 1.0, double beta = 0.0);

// The backends behind gemm (same contract, already-checked sizes).
void gemm_cpu(const Tensor& a, const Tensor& b, Tensor& c, bool trans_a, bool trans_b,
              const GemmDims& d, double alpha, double beta);
void gemm_cuda(const Tensor& a, const Tensor& b, Tensor& c, bool trans_a, bool trans_b,
               const GemmDims& d, double alpha, double beta);

}  // namespace lumen
