// Exact cosine k-nearest-neighbour search over a bank of embeddings. The bank is L2-normalised
// once (F.normalize, eps 1e-12); a search takes the queries a block at a time: on a GPU one GEMM
// (cuBLAS) for the block's similarities to the whole bank and the top-k kernel over them; on the
// CPU the GEMMs (OpenBLAS) go a chunk of bank rows at a time, each chunk folded into the block's
// running heaps (a partial selection, kernels/topk.h), so the similarities stay in cache and the
// bank is read once per block. Neighbours come most similar first; among equal similarities the
// lower bank row first.
//
//   CosineIndex index(bank);                        // (N, D) on the CPU or a GPU
//   Neighbors nn = index.search(queries, 10);       // (Q, 10) rows and similarities
//   Neighbors self = index.search(bank, 10, own);   // own[i] = i: no row is its own neighbour
#pragma once

#include <vector>

#include "engine/core/tensor.h"

namespace lumen {

struct Neighbors {
  Tensor indices;       // (Q, k) i64 bank rows, most similar first; on the CPU
  Tensor similarities;  // (Q, k) cosine similarities in the bank's compute dtype; on the CPU
};

class CosineIndex {
 public:
  // bank: (N, D) float with N, D > 0 and every value finite (an error names the first row that is
  // not); computed in f32 (f64 for an f64 bank) on the bank's device.
  // block_bytes: how many bytes of similarities are computed at a time (at least one query and
  // one bank row); 0: kCpuBlockBytes on the CPU (they should stay in cache), kGpuBlockBytes on a
  // GPU.
  explicit CosineIndex(const Tensor& bank, size_t block_bytes = 0);

  int64_t size() const { return bank_.size(0); }
  int64_t dim() const { return bank_.size(1); }
  Device device() const { return bank_.device(); }
  const Tensor& normalized_bank() const { return bank_; }  // (N, D) unit rows (zero rows stay 0)

  // The k most similar bank rows of each query. queries: (Q, D) float, finite, moved to the bank's
  // device and dtype. exclude: empty, or Q bank rows, each left out of its query's neighbours
  // (-1: none), e.g. the query's own row when the queries are the bank. k >= 1 and at most N (N - 1
  // when a row is left out anywhere; on the GPU at most kernels::kMaxCudaTopk).
  Neighbors search(const Tensor& queries, int64_t k,
                   const std::vector<int64_t>& exclude = {}) const;

  static constexpr size_t kCpuBlockBytes = size_t(8) << 20;
  static constexpr size_t kGpuBlockBytes = size_t(256) << 20;

 private:
  Tensor bank_;
  size_t block_bytes_;
};

// Throws unless every value of x (rows, cols) is finite, naming `what` and the first bad row.
void check_finite_rows(const Tensor& x, const char* what);

}  // namespace lumen
