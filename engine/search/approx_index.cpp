// recall_at_k, and the ApproxIndex of a build without FAISS (approx_index_faiss.cpp has the real
// one).
#include "engine/search/approx_index.h"

#include <algorithm>

namespace lumen {

double recall_at_k(const Neighbors& found, const Neighbors& exact) {
  LUMEN_CHECK(found.indices.size(0) == exact.indices.size(0),
              "recall_at_k: ", found.indices.size(0), " queries against ", exact.indices.size(0));
  const int64_t nq = exact.indices.size(0), k = exact.indices.size(1), kf = found.indices.size(1);
  if (nq == 0) return 1.0;
  const int64_t* e = exact.indices.data<int64_t>();
  const int64_t* f = found.indices.data<int64_t>();
  int64_t hits = 0;
  for (int64_t q = 0; q < nq; ++q) {
    for (int64_t j = 0; j < k; ++j) hits += std::count(f + q * kf, f + (q + 1) * kf, e[q * k + j]);
  }
  return double(hits) / double(nq * k);
}

#if !defined(LUMEN_WITH_FAISS)

bool faiss_available() { return false; }

struct ApproxIndex::Impl {};

ApproxIndex::ApproxIndex(const Tensor&, const ApproxOptions& options) {
  LUMEN_FAIL("this Lumen was built without FAISS, so index=",
             options.kind == ApproxKind::ivf ? "ivf" : "hnsw",
             " is not available: use index=flat (exact), or install libfaiss-dev "
             "(tools/setup.sh) and rebuild");
}
ApproxIndex::~ApproxIndex() = default;
Neighbors ApproxIndex::search(const Tensor&, int64_t, const std::vector<int64_t>&) const {
  LUMEN_FAIL("built without FAISS");
}
int64_t ApproxIndex::size() const { return 0; }
std::string ApproxIndex::describe() const { return "none"; }

#endif

}  // namespace lumen
