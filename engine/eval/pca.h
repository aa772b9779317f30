// Principal component analysis of embeddings, for 2-D maps (lumen report): the data centred, its
// covariance accumulated in double precision, the eigenvectors of the largest eigenvalues (LAPACK's
// dsyev through OpenBLAS), the data projected on them. Each component's sign is fixed so that its
// coefficient of largest magnitude is positive (one answer for one input).
#pragma once

#include <vector>

#include "engine/core/tensor.h"

namespace lumen {

struct Pca {
  Tensor projection;                      // (N, components) f32 on the CPU
  std::vector<double> explained;          // per component: its share of the total variance
  std::vector<std::vector<double>> axes;  // per component: the unit direction (D)
};

// x: (N, D) float with N >= 2; 1 <= components <= D.
Pca pca(const Tensor& x, int components = 2);

}  // namespace lumen
