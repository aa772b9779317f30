#include "kernels/kcenter.h"

#include <omp.h>

namespace lumen::kernels {

KCenterKey kcenter_update_cpu(const float* dots, const float* centre_norms, int64_t m,
                              int64_t begin, int64_t count, const float* norms, float* distance,
                              uint8_t* candidate, const double* weight, const uint32_t* tie,
                              const KCenterObjective& objective) {
  KCenterKey best = kcenter_none();
#pragma omp parallel if (count * (m + 8) > 65536)
  {
    KCenterKey mine = kcenter_none();
#pragma omp for schedule(static)
    for (int64_t p = 0; p < count; ++p) {
      const int64_t i = begin + p;
      if (!candidate[i]) continue;
      float nearest = distance[i];
      for (int64_t j = 0; j < m; ++j) {
        const float dist = kcenter_distance(norms[i], centre_norms[j], dots[p * m + j]);
        nearest = dist < nearest ? dist : nearest;
      }
      distance[i] = nearest;
      if (!kcenter_eligible(nearest, objective)) {
        candidate[i] = 0;
        continue;
      }
      const KCenterKey key{kcenter_score(nearest, weight ? weight[i] : 0.0, objective), tie[i], i};
      if (kcenter_better(key, mine)) mine = key;
    }
#pragma omp critical(kcenter_update)
    if (kcenter_better(mine, best)) best = mine;
  }
  return best;
}

void kcenter_norms_cpu(const float* x, int64_t n, int64_t d, float* norms) {
#pragma omp parallel for schedule(static) if (n * d > 65536)
  for (int64_t i = 0; i < n; ++i) {
    float s = 0.0f;
    for (int64_t j = 0; j < d; ++j) s += x[i * d + j] * x[i * d + j];
    norms[i] = s;
  }
}

}  // namespace lumen::kernels
