// lightly's sinkhorn (SwaV's soft codes, Caron et al. 2020): the Sinkhorn-Knopp iterations that
// turn prototype scores into codes whose prototypes share the batch equally and whose rows are
// distributions (kernels/sinkhorn.cuh: the math, and how it equals lightly's order of divisions).
//   logits: (rows, k) float, rows, k > 0 -> codes (rows, k) in f32 (f64 for f64), each row summing
//   to 1. iterations >= 1 (lightly's default 3), epsilon > 0 (0.05). Not recorded by autograd
//   (lightly runs it under no_grad).
// comm (gather_distributed): every rank passes its own rows and gets its rows of the codes of all
//   ranks' rows taken together: the per-prototype maxima and sums are all-reduced (one max and
//   `iterations` sums of k values), the per-sample sums stay local, as lightly's. Null or one
//   rank: this process's rows alone.
#pragma once

#include "engine/core/tensor.h"
#include "engine/dist/communicator.h"

namespace lumen {

Tensor sinkhorn(const Tensor& logits, int iterations = 3, double epsilon = 0.05,
                Communicator* comm = nullptr);

}  // namespace lumen
