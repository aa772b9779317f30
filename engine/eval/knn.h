// k-nearest-neighbour classification of embeddings, as lightly's knn_predict: cosine similarity
// to every bank embedding, the k most similar vote for their labels with weight exp(sim / t), and
// classes are ranked by their summed weight.
#pragma once

#include <vector>

#include "engine/core/tensor.h"

namespace lumen {

struct KnnResult {
  double top1 = 0;  // accuracy in [0, 1]
  double top5 = 0;
  std::vector<std::vector<int64_t>> ranked;  // per query, classes best first (at most 5)
};

// bank: (N, D) float, bank_labels: N labels in [0, classes); queries: (Q, D) float on the bank's
// device; query_labels: Q labels. Embeddings are L2-normalised here. k is clamped to N.
KnnResult knn_classify(const Tensor& bank, const std::vector<int64_t>& bank_labels,
                       const Tensor& queries, const std::vector<int64_t>& query_labels,
                       int64_t classes, int64_t k = 200, double t = 0.1);

}  // namespace lumen
