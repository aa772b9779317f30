// Nearest neighbours by cosine similarity, as lightly's NNMemoryBankModule looks them up:
//   index[i] = argmax_j <normalize(queries_i), normalize(keys_j)>
// with F.normalize (eps 1e-12) and torch.argmax's rule (the first maximum; NaN wins). One GEMM
// for all similarities, then one row-argmax pass (kernels/argmax.h).
//   queries: (n, dim), keys: (m, dim) with n, m > 0, float, same dtype and device; computed in f32
//   (f64 for f64). Returns (n) i64 on their device. Not recorded by autograd.
#pragma once

#include "engine/core/tensor.h"

namespace lumen {

Tensor cosine_nearest_rows(const Tensor& queries, const Tensor& keys);

}  // namespace lumen
