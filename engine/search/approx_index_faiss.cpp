// ApproxIndex on FAISS (compiled only when CMake finds FAISS; see approx_index.cpp otherwise).
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVFFlat.h>

#include <algorithm>
#include <cmath>

#include "engine/autograd/tape.h"
#include "engine/ops/normalize.h"
#include "engine/search/approx_index.h"

namespace lumen {

bool faiss_available() { return true; }

struct ApproxIndex::Impl {
  ApproxOptions options;
  int64_t nlist = 0;
  std::unique_ptr<faiss::IndexFlatIP> quantizer;  // IVF's cell centres
  std::unique_ptr<faiss::Index> index;
};

namespace {

// (N, D) unit rows in f32 on the CPU, as FAISS takes them.
Tensor unit_rows(const Tensor& x, const char* what) {
  check_finite_rows(x, what);
  NoGrad no_grad;
  return l2_normalize_rows(x.detach().to(Device::cpu()).to(DType::f32));
}

}  // namespace

ApproxIndex::ApproxIndex(const Tensor& bank, const ApproxOptions& options)
    : impl_(std::make_unique<Impl>()) {
  check_defined(bank, "ApproxIndex");
  LUMEN_CHECK(
      bank.ndim() == 2 && bank.size(0) > 0 && bank.size(1) > 0 && dtype_is_float(bank.dtype()),
      "ApproxIndex: the bank must be (N, D) float with N, D > 0, got ", bank.str());
  const Tensor x = unit_rows(bank, "the bank's");
  const int64_t n = x.size(0), d = x.size(1);
  impl_->options = options;
  if (options.kind == ApproxKind::ivf) {
    int64_t nlist = options.nlist;
    if (nlist <= 0) {
      nlist = std::max<int64_t>(1, std::min<int64_t>(int64_t(4 * std::sqrt(double(n))), n / 39));
    }
    LUMEN_CHECK(nlist <= n, "ivf.nlist = ", nlist, " is more cells than the ", n,
                " embeddings; lower ivf.nlist");
    LUMEN_CHECK(options.nprobe >= 1, "ivf.nprobe must be >= 1");
    impl_->nlist = nlist;
    impl_->quantizer = std::make_unique<faiss::IndexFlatIP>(int(d));
    auto ivf = std::make_unique<faiss::IndexIVFFlat>(impl_->quantizer.get(), size_t(d),
                                                     size_t(nlist), faiss::METRIC_INNER_PRODUCT);
    ivf->train(n, x.data<float>());
    ivf->nprobe = size_t(std::min(options.nprobe, nlist));
    impl_->index = std::move(ivf);
  } else {
    LUMEN_CHECK(options.m >= 2 && options.ef_construction >= 1 && options.ef_search >= 1,
                "hnsw.m must be >= 2, hnsw.ef_construction and hnsw.ef_search >= 1");
    auto hnsw =
        std::make_unique<faiss::IndexHNSWFlat>(int(d), int(options.m), faiss::METRIC_INNER_PRODUCT);
    hnsw->hnsw.efConstruction = int(options.ef_construction);
    hnsw->hnsw.efSearch = int(options.ef_search);
    impl_->index = std::move(hnsw);
  }
  impl_->index->add(n, x.data<float>());
}

ApproxIndex::~ApproxIndex() = default;

int64_t ApproxIndex::size() const { return impl_->index->ntotal; }

std::string ApproxIndex::describe() const {
  const ApproxOptions& o = impl_->options;
  if (o.kind == ApproxKind::ivf) {
    return detail::concat("FAISS IVF-Flat nlist=", impl_->nlist,
                          " nprobe=", std::min(o.nprobe, impl_->nlist));
  }
  return detail::concat("FAISS HNSW-Flat M=", o.m, " efConstruction=", o.ef_construction,
                        " efSearch=", o.ef_search);
}

Neighbors ApproxIndex::search(const Tensor& queries, int64_t k,
                              const std::vector<int64_t>& exclude) const {
  check_defined(queries, "ApproxIndex::search");
  const int64_t n = size(), d = impl_->index->d;
  LUMEN_CHECK(queries.ndim() == 2 && queries.size(1) == d && dtype_is_float(queries.dtype()),
              "ApproxIndex::search: queries ", queries.str(), " must be (Q, ", d,
              ") float, the bank's dimension");
  const int64_t nq = queries.size(0);
  LUMEN_CHECK(exclude.empty() || int64_t(exclude.size()) == nq,
              "ApproxIndex::search: ", exclude.size(), " excluded rows for ", nq,
              " queries (one per query, -1 for none)");
  const int64_t available = exclude.empty() ? n : n - 1;
  LUMEN_CHECK(k >= 1 && k <= available, "ApproxIndex::search: k = ", k, " but the bank has ",
              available, " candidate", available == 1 ? "" : "s", " per query");
  const Tensor q = unit_rows(queries, "the queries'");
  // One more than asked where a row is left out, so that dropping it leaves k.
  const int64_t ask = exclude.empty() ? k : k + 1;
  std::vector<float> sim(size_t(nq * ask));
  std::vector<faiss::Index::idx_t> label(size_t(nq * ask));
  if (impl_->options.kind == ApproxKind::hnsw) {
    auto* hnsw = static_cast<faiss::IndexHNSWFlat*>(impl_->index.get());
    hnsw->hnsw.efSearch = int(std::max(impl_->options.ef_search, ask));
  }
  impl_->index->search(nq, q.data<float>(), ask, sim.data(), label.data());

  Neighbors out;
  out.indices = Tensor::empty({nq, k}, DType::i64);
  out.similarities = Tensor::empty({nq, k}, DType::f32);
  int64_t* oi = out.indices.data<int64_t>();
  float* os = out.similarities.data<float>();
  for (int64_t r = 0; r < nq; ++r) {
    const int64_t skip = exclude.empty() || exclude[size_t(r)] < 0 ? -2 : exclude[size_t(r)];
    int64_t kept = 0;
    for (int64_t j = 0; j < ask && kept < k; ++j) {
      const faiss::Index::idx_t l = label[size_t(r * ask + j)];
      if (l == skip) continue;
      oi[r * k + kept] = l;
      os[r * k + kept] = l < 0 ? -INFINITY : sim[size_t(r * ask + j)];
      ++kept;
    }
    for (; kept < k; ++kept) {
      oi[r * k + kept] = -1;
      os[r * k + kept] = -INFINITY;
    }
  }
  return out;
}

}  // namespace lumen
