// Softmax, log-softmax and cross-entropy with autograd.
#pragma once

#include "engine/core/tensor.h"

namespace lumen {

// Row-wise softmax, over the columns of each row (F.softmax(x, dim=1)).
//                                           x: (rows, cols) float; y: same
Tensor softmax_rows(const Tensor& x);

// Row-wise log-softmax.                     x: (rows, cols) float; y: same
Tensor log_softmax_rows(const Tensor& x);

// Mean cross-entropy of logits against class indices, as torch.nn.functional.cross_entropy with
// reduction="mean". The gradient of the logits is computed with the loss in one pass.
//   logits: (rows, classes) float; targets: (rows) i64 on any device; returns (1,) in f32 (f64 for
//   f64 logits).
Tensor cross_entropy(const Tensor& logits, const Tensor& targets);

}  // namespace lumen
