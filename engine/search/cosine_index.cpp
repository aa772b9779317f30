#include "engine/search/cosine_index.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/autograd/tape.h"
#include "engine/ops/finite.h"
#include "engine/ops/gemm.h"
#include "engine/ops/normalize.h"
#include "engine/ops/topk.h"
#include "kernels/topk.h"

namespace lumen {

namespace {

DType compute_dtype(const Tensor& x) { return x.dtype() == DType::f64 ? DType::f64 : DType::f32; }

}  // namespace

void check_finite_rows(const Tensor& x, const char* what) {
  if (all_finite(x)) return;
  const std::vector<double> v = x.to(Device::cpu()).to_doubles();
  const int64_t cols = x.size(1);
  for (size_t i = 0; i < v.size(); ++i) {
    LUMEN_CHECK(std::isfinite(v[i]), what, " row ", int64_t(i) / cols, " holds ",
                v[i] != v[i] ? "NaN" : "inf", " (column ", int64_t(i) % cols,
                "); embeddings must be finite: check the model that wrote them");
  }
}

CosineIndex::CosineIndex(const Tensor& bank, size_t block_bytes) : block_bytes_(block_bytes) {
  check_defined(bank, "CosineIndex");
  LUMEN_CHECK(
      bank.ndim() == 2 && bank.size(0) > 0 && bank.size(1) > 0 && dtype_is_float(bank.dtype()),
      "CosineIndex: the bank must be (N, D) float with N, D > 0, got ", bank.str());
  check_finite_rows(bank, "the bank's");
  NoGrad no_grad;
  bank_ = l2_normalize_rows(bank.detach().to(compute_dtype(bank)));
}

Neighbors CosineIndex::search(const Tensor& queries, int64_t k,
                              const std::vector<int64_t>& exclude) const {
  check_defined(queries, "CosineIndex::search");
  LUMEN_CHECK(queries.ndim() == 2 && queries.size(1) == dim() && dtype_is_float(queries.dtype()),
              "CosineIndex::search: queries ", queries.str(), " must be (Q, ", dim(),
              ") float, the bank's dimension");
  const int64_t nq = queries.size(0), n = size();
  LUMEN_CHECK(exclude.empty() || int64_t(exclude.size()) == nq,
              "CosineIndex::search: ", exclude.size(), " excluded rows for ", nq,
              " queries (one per query, -1 for none)");
  for (int64_t e : exclude) {
    LUMEN_CHECK(e >= -1 && e < n, "CosineIndex::search: excluded row ", e, " outside [-1, ", n,
                ")");
  }
  const bool excluding =
      std::any_of(exclude.begin(), exclude.end(), [](int64_t e) { return e >= 0; });
  const int64_t available = excluding ? n - 1 : n;
  LUMEN_CHECK(k >= 1 && k <= available, "CosineIndex::search: k = ", k, " but the bank has ",
              available, " candidate", available == 1 ? "" : "s", " per query");
  LUMEN_CHECK(!bank_.is_cuda() || k <= kernels::kMaxCudaTopk, "CosineIndex::search: k = ", k,
              " is more than the GPU's top-k takes (", kernels::kMaxCudaTopk,
              "); search on the CPU");
  check_finite_rows(queries, "the queries'");
  NoGrad no_grad;
  const DType c = bank_.dtype();
  const Tensor q_all = l2_normalize_rows(queries.detach().to(device()).to(c));
  Tensor exclude_rows;
  if (excluding) {
    exclude_rows = Tensor::empty({nq}, DType::i64);
    std::copy(exclude.begin(), exclude.end(), exclude_rows.data<int64_t>());
    exclude_rows = exclude_rows.to(device());
  }

  Neighbors out;
  out.indices = Tensor::empty({nq, k}, DType::i64);
  out.similarities = Tensor::empty({nq, k}, c);
  const int64_t item = int64_t(dtype_size(c));
  const int64_t budget = int64_t(block_bytes_      ? block_bytes_
                                 : bank_.is_cuda() ? kGpuBlockBytes
                                                   : kCpuBlockBytes);
  if (!bank_.is_cuda()) {
    // CPU: a block of queries meets the bank a chunk of rows at a time, so that the similarities
    // stay in cache and the bank is read once per block; each chunk is folded into the block's
    // running heaps (kernels/topk.h), which end as the top k of the whole bank.
    const int64_t block = std::min<int64_t>(nq, 1024);
    const int64_t chunk = std::max<int64_t>(1, std::min<int64_t>(n, budget / (block * item)));
    Tensor sim = Tensor::empty({block, chunk}, c);
    std::vector<int64_t> sizes(static_cast<size_t>(block));
    for (int64_t start = 0; start < nq; start += block) {
      const int64_t count = std::min(block, nq - start);
      std::fill(sizes.begin(), sizes.end(), 0);
      const int64_t* ex = excluding ? exclude_rows.data<int64_t>() + start : nullptr;
      for (int64_t from = 0; from < n; from += chunk) {
        const int64_t cols = std::min(chunk, n - from);
        Tensor s = sim.reshape({block * chunk}).rows(0, count * cols).reshape({count, cols});
        gemm(q_all.rows(start, count), bank_.rows(from, cols), s, false, true);
        if (c == DType::f64) {
          kernels::row_topk_fold_cpu(s.data<double>(), count, cols, from, k, ex,
                                     out.similarities.data<double>() + start * k,
                                     out.indices.data<int64_t>() + start * k, sizes.data());
        } else {
          kernels::row_topk_fold_cpu(s.data<float>(), count, cols, from, k, ex,
                                     out.similarities.data<float>() + start * k,
                                     out.indices.data<int64_t>() + start * k, sizes.data());
        }
      }
      if (c == DType::f64) {
        kernels::row_topk_finish_cpu(count, k, out.similarities.data<double>() + start * k,
                                     out.indices.data<int64_t>() + start * k);
      } else {
        kernels::row_topk_finish_cpu(count, k, out.similarities.data<float>() + start * k,
                                     out.indices.data<int64_t>() + start * k);
      }
    }
    return out;
  }
  // GPU: one GEMM per block of queries against the whole bank, then the top-k kernel per row.
  const int64_t block = std::max<int64_t>(1, budget / (n * item));
  Tensor sim = Tensor::empty_on({std::min(block, nq), n}, c, bank_);
  Tensor values = Tensor::empty_on({std::min(block, nq), k}, c, bank_);
  Tensor indices = Tensor::empty_on({std::min(block, nq), k}, DType::i64, bank_);
  for (int64_t start = 0; start < nq; start += block) {
    const int64_t count = std::min(block, nq - start);
    Tensor s = sim.rows(0, count), v = values.rows(0, count), ix = indices.rows(0, count);
    gemm(q_all.rows(start, count), bank_, s, false, true);
    row_topk_into(s, k, excluding ? exclude_rows.rows(start, count) : Tensor(), v, ix);
    out.similarities.rows(start, count).copy_from(v);
    out.indices.rows(start, count).copy_from(ix);
  }
  return out;
}

}  // namespace lumen
