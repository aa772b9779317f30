// lightly's batch_shuffle / batch_unshuffle for MoCo's key encoder (single process): the key batch
// goes through the momentum encoder in a random order, so that batch norm cannot pair a query
// with its key through batch statistics, and comes back in the original order.
//
//   BatchShuffle s = batch_shuffle(x1, seed, step);        // s.batch = x1[s.shuffle]
//   Tensor keys = batch_unshuffle(key_head(key_backbone(s.batch)), s);  // rows back in order
//
// Departure from lightly, by design: lightly draws torch.randperm from the global generator;
// Lumen's permutation is a Fisher-Yates shuffle from Philox keyed by (seed, step) (a stream of its
// own, apart from the loader's and the augmentations'), so a run and a resumed run shuffle alike
// with no generator state to save. Not recorded by autograd (lightly's are under no_grad).
//
// Across ranks (a communicator of more than one rank: lightly's batch_shuffle_distributed), every
// rank's batch is gathered (rank order), the world * B gathered rows are permuted by the
// permutation of (seed, step) of world * B, which every rank draws alike (lightly broadcasts rank
// 0's torch.randperm), and rank r takes permuted rows [r * B, (r + 1) * B); batch_unshuffle
// gathers the outputs and hands rank r the rows of its own batch, in its order.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/core/tensor.h"
#include "engine/dist/communicator.h"

namespace lumen {

struct BatchShuffle {
  Tensor batch;                // (B, ...) the shuffled rows: batch[i] = x[order[i]] (one rank)
  Tensor shuffle;              // (world B) i64 on x's device: order (lightly's `shuffle`)
  Tensor unshuffle;            // (B) i64 on x's device: this rank's rows of argsort(shuffle)
  std::vector<int64_t> order;  // the permutation of world * B rows, on the host
};

// The permutation of [0, n) for (seed, step).
std::vector<int64_t> batch_permutation(int64_t n, uint64_t seed, int64_t step);

// x: (B, ...) any dtype and device; comm: the ranks to shuffle across (null: this process; every
// rank passes the same B).
BatchShuffle batch_shuffle(const Tensor& x, uint64_t seed, int64_t step,
                           Communicator* comm = nullptr);
// y: (B, ...) computed row by row from s.batch -> the rows of x's order (one rank: y[unshuffle]);
// comm: batch_shuffle's.
Tensor batch_unshuffle(const Tensor& y, const BatchShuffle& s, Communicator* comm = nullptr);

}  // namespace lumen
