#include "engine/eval/knn.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "engine/search/cosine_index.h"

namespace lumen {

KnnResult knn_classify(const Tensor& bank, const std::vector<int64_t>& bank_labels,
                       const Tensor& queries, const std::vector<int64_t>& query_labels,
                       int64_t classes, int64_t k, double t) {
  LUMEN_CHECK(bank.ndim() == 2 && queries.ndim() == 2 && bank.size(1) == queries.size(1),
              "knn: bank ", bank.str(), " and queries ", queries.str(),
              " must be (N, D) and (Q, D) with the same D");
  LUMEN_CHECK(int64_t(bank_labels.size()) == bank.size(0) &&
                  int64_t(query_labels.size()) == queries.size(0),
              "knn: one label per embedding is needed");
  LUMEN_CHECK(bank.size(0) > 0 && classes > 0 && k > 0 && t > 0,
              "knn: needs a non-empty bank, classes > 0, k > 0 and t > 0");
  for (int64_t l : bank_labels) {
    LUMEN_CHECK(l >= 0 && l < classes, "knn: bank label ", l, " outside [0, ", classes, ")");
  }
  const int64_t nq = queries.size(0);
  k = std::min(k, bank.size(0));
  KnnResult result;
  result.ranked.resize(size_t(nq));
  if (nq == 0) return result;
  const Neighbors nn = CosineIndex(bank).search(queries, k);
  const std::vector<double> sim = nn.similarities.to_doubles();
  const int64_t* index = nn.indices.data<int64_t>();
  int64_t hits1 = 0, hits5 = 0;
  for (int64_t q = 0; q < nq; ++q) {
    std::vector<double> score(static_cast<size_t>(classes), 0.0);
    for (int64_t j = 0; j < k; ++j) {
      score[size_t(bank_labels[size_t(index[q * k + j])])] += std::exp(sim[size_t(q * k + j)] / t);
    }
    std::vector<int64_t> ranked(static_cast<size_t>(classes));
    std::iota(ranked.begin(), ranked.end(), 0);
    std::stable_sort(ranked.begin(), ranked.end(),
                     [&score](int64_t x, int64_t y) { return score[x] > score[y]; });
    ranked.resize(std::min<size_t>(5, ranked.size()));
    const int64_t truth = query_labels[size_t(q)];
    hits1 += ranked[0] == truth;
    hits5 += std::find(ranked.begin(), ranked.end(), truth) != ranked.end();
    result.ranked[size_t(q)] = std::move(ranked);
  }
  result.top1 = double(hits1) / double(nq);
  result.top5 = double(hits5) / double(nq);
  return result;
}

KnnLabels knn_labels(const data::ImageDataset& train, const data::ImageDataset& test,
                     const std::string& train_what, const std::string& test_what) {
  const auto& votes = train.labels;
  LUMEN_CHECK(std::adjacent_find(votes.begin(), votes.end(), std::not_equal_to<>()) != votes.end(),
              "kNN votes with the labels of ", train_what, ", but all its images have one label ",
              "(a folder without class subfolders?); pass a folder with one subfolder per class");
  const bool train_named = !train.class_names.empty(), test_named = !test.class_names.empty();
  LUMEN_CHECK(train_named == test_named, "kNN: ", train_named ? train_what : test_what,
              " names its classes (one subfolder per class) but ",
              train_named ? test_what : train_what,
              " does not (a flat folder, or an idx/CIFAR file); label both the same way");
  KnnLabels out;
  if (!train_named) {
    out.test = test.labels;
    for (int64_t l : train.labels) out.classes = std::max(out.classes, l + 1);
    for (int64_t l : test.labels) out.classes = std::max(out.classes, l + 1);
    return out;
  }
  std::map<std::string, int64_t> train_label;
  for (size_t i = 0; i < train.class_names.size(); ++i) train_label[train.class_names[i]] = i;
  std::vector<int64_t> to_train(test.class_names.size(), -1);
  for (size_t i = 0; i < test.class_names.size(); ++i) {
    auto it = train_label.find(test.class_names[i]);
    if (it != train_label.end()) to_train[i] = it->second;
  }
  out.classes = int64_t(train.class_names.size());
  out.test.reserve(test.labels.size());
  for (int64_t l : test.labels) {
    LUMEN_CHECK(to_train[size_t(l)] >= 0, "kNN: class '", test.class_names[size_t(l)], "' of ",
                test_what, " is not a class of ", train_what,
                ", so none of its images can be classified right; leave it out of ", test_what);
    out.test.push_back(to_train[size_t(l)]);
  }
  return out;
}

}  // namespace lumen
