// What the contrastive losses (NT-Xent, DCL) share, for their implementations: the compute dtype,
// both views L2-normalised into one buffer, and the plain-mode skeleton. Plain mode:
//   z = [normalize(out0); normalize(out1)]                    (2n, dim) in the compute dtype
//   columns = every rank's z in rank order (z itself without gathering)
//   sim = z @ columns^T                                       (2n, cols): cosine similarities
// then a loss's fused row kernel turns sim into d loss / d sim and writes the row losses; the loss
// is their mean, recorded as one autograd node whose backward is two GEMMs and the normalisation's
// backward (gathered: the column gradients are all-reduced, lightly's GatherLayer).
#pragma once

#include <memory>
#include <vector>

#include "engine/core/tensor.h"
#include "engine/dist/communicator.h"
#include "losses/compute.h"

namespace lumen::contrastive {

using losses::compute_dtype;
using losses::dispatch_compute;

// y[r] = x[r] / max(||x[r]||, 1e-12) (F.normalize), norm[r] = ||x[r]||.
//   x, y: (rows, dim) in a compute dtype; norm: (rows), same dtype
void normalize_rows(const Tensor& x, Tensor& y, Tensor& norm);

// Both views normalised into one (2n, dim) buffer [z0; z1] in the compute dtype.
struct NormalizedViews {
  Tensor z;     // (2n, dim) C
  Tensor norm;  // (2n) C
};
NormalizedViews normalize_views(const Tensor& out0, const Tensor& out1);

// The gradients of out0 and out1 (in their dtypes) from the gradient dz of the normalised views,
// scaled by the upstream gradient dy (a (1,) tensor; no host sync).
std::vector<Tensor> view_gradients(const NormalizedViews& v, const Tensor& dz, const Tensor& dy,
                                   const Tensor& out0, const Tensor& out1);

// out0, out1: defined, (batch, dim) with batch, dim > 0, same shape, dtype (float) and device.
void check_outputs(const Tensor& out0, const Tensor& out1, const char* loss);

// Plain mode, up to the row kernel.
struct PairSimilarities {
  NormalizedViews v;
  Tensor columns;  // (cols, dim) C: every rank's z, rank-major (z itself without gathering)
  Tensor sim;      // (2n, cols) C: z @ columns^T; the row kernel overwrites it with d loss / d sim
  int rank = 0;    // this rank's block of columns starts at rank * 2n
  std::shared_ptr<Communicator> comm;  // set only when gathering
};
PairSimilarities pair_similarities(const Tensor& out0, const Tensor& out1,
                                   std::shared_ptr<Communicator> gather_comm);

// The loss: mean of row_loss (2n), recorded as one node `name` on {out0, out1} whose backward
// uses p.sim as d(sum of the row losses' share) / d sim, as the row kernel left it.
Tensor record_pair_loss(const char* name, const PairSimilarities& p, const Tensor& row_loss,
                        const Tensor& out0, const Tensor& out1);

}  // namespace lumen::contrastive
