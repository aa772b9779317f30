// k-nearest-neighbour classification of embeddings, as lightly's knn_predict: cosine similarity
// to every bank embedding, the k most similar (found by the exact index of
// engine/search/cosine_index.h; among equal similarities the lower bank row) vote for their labels
// with weight exp(sim / t), and classes are ranked by their summed weight.
#pragma once

#include <string>
#include <vector>

#include "engine/core/tensor.h"
#include "engine/data/dataset.h"

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

// The labels kNN compares: the test images' labels in the training set's label space.
// - Both sets name their classes (image folders, idx files of a known dataset): classes are
//   matched by name, so a test folder holding some of the training classes scores against the
//   right ones; a test class (with images) the training set lacks is an error naming it.
// - Neither names them (idx, CIFAR): labels are kept as they are on both sides.
// - One names them and the other not: an error (a flat folder against a labelled one, say).
// A training set whose images all have one label (a flat folder) cannot vote and is an error.
// train_what / test_what name the sets in errors ("train_dir=images/train").
struct KnnLabels {
  std::vector<int64_t> test;  // (Q) labels of the test images in the training label space
  int64_t classes = 0;        // labels run over [0, classes)
};
KnnLabels knn_labels(const data::ImageDataset& train, const data::ImageDataset& test,
                     const std::string& train_what, const std::string& test_what);

}  // namespace lumen
