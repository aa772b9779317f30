// Approximate cosine k-nearest-neighbour search through FAISS (Debian's libfaiss, CPU) for banks
// past a few million vectors: an inverted file of flat lists (IVF-Flat: nlist k-means cells, nprobe
// of them searched) or a navigable small-world graph (HNSW: M links per node, efConstruction and
// efSearch candidate lists), over the L2-normalised bank with the inner-product metric, so the
// scores are cosine similarities as CosineIndex's. FAISS is optional at build time
// (faiss_available()); without it, building an ApproxIndex is an error that says so.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/search/cosine_index.h"

namespace lumen {

enum class ApproxKind { ivf, hnsw };

struct ApproxOptions {
  ApproxKind kind = ApproxKind::hnsw;
  int64_t nlist = 0;    // IVF cells; 0: 4 sqrt(N), at most N / 39 (FAISS wants 39 points a cell)
  int64_t nprobe = 16;  // IVF cells searched per query
  int64_t m = 32;       // HNSW links per node
  int64_t ef_construction = 40;
  int64_t ef_search = 64;  // HNSW candidates kept while searching (at least k is used)
};

// Whether this Lumen was built with FAISS.
bool faiss_available();

class ApproxIndex {
 public:
  // bank: (N, D) float, finite, on any device (FAISS runs on the CPU). Builds the index (IVF:
  // k-means on the bank, then the lists).
  ApproxIndex(const Tensor& bank, const ApproxOptions& options);
  ~ApproxIndex();
  ApproxIndex(const ApproxIndex&) = delete;
  ApproxIndex& operator=(const ApproxIndex&) = delete;

  // As CosineIndex::search; rows the index does not find (IVF with too few cells probed) are -1
  // with similarity -inf, at the end of their query's list.
  Neighbors search(const Tensor& queries, int64_t k,
                   const std::vector<int64_t>& exclude = {}) const;

  int64_t size() const;
  std::string describe() const;  // "IVF-Flat nlist=4000 nprobe=16", for messages

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// recall@k of `found` against `exact` (the same queries): the mean over queries of the fraction of
// the exact neighbours that were found.
double recall_at_k(const Neighbors& found, const Neighbors& exact);

}  // namespace lumen
