// GPU against CPU for search: the row top-k kernel (kernels/topk.cu) against its CPU twin (same
// rows, same order: ties, NaN, exclusions, k up to the kernel's limit) and the exact index on a
// GPU against the brute-force reference. Skips (saying so) where no CUDA device is present.
#include <cmath>

#include "engine/ops/topk.h"
#include "engine/search/cosine_index.h"
#include "kernels/topk.h"
#include "support/search_cases.h"
#include "support/testing.h"

using namespace lumen;

namespace {

const Device kGpu = Device::cuda(0);

void check_topk(int64_t rows, int64_t cols, int64_t k, bool ties, bool exclude, DType dtype) {
  CAPTURE(rows);
  CAPTURE(cols);
  CAPTURE(k);
  CAPTURE(ties);
  CAPTURE(exclude);
  Tensor x = Tensor::normal({rows, cols}, uint64_t(cols * 31 + k), 0, 1, dtype);
  std::vector<double> v = x.to_doubles();
  for (size_t i = 0; i < v.size(); ++i) {
    if (ties) v[i] = std::round(v[i] * 2);  // few distinct values: long runs of equal ones
    if (i % 997 == 5) v[i] = NAN;
    if (i % 991 == 7) v[i] = -0.0;
  }
  x = Tensor::from_vector(v, {rows, cols}, dtype);
  std::vector<int64_t> skip(static_cast<size_t>(rows), -1);
  if (exclude) {
    for (int64_t r = 0; r < rows; ++r) skip[size_t(r)] = (r * 13) % cols;
  }
  Tensor skip_cpu =
      Tensor::from_vector(std::vector<double>(skip.begin(), skip.end()), {rows}, DType::i64);
  const TopK cpu = row_topk(x, k, exclude ? skip_cpu : Tensor());
  Tensor gv = testing::poisoned({rows, k}, dtype, kGpu);
  Tensor gi = Tensor::full({rows, k}, -7, DType::i64, kGpu);
  row_topk_into(x.to(kGpu), k, exclude ? skip_cpu.to(kGpu) : Tensor(), gv, gi);
  CHECK(gi.to_doubles() == cpu.indices.to_doubles());
  const std::vector<double> a = gv.to_doubles(), b = cpu.values.to_doubles();
  bool same = true;
  for (size_t i = 0; i < a.size(); ++i)
    same &= (a[i] == b[i]) || (std::isnan(a[i]) && std::isnan(b[i]));
  CHECK(same);
}

}  // namespace

TEST_CASE("GPU: row top-k equals the CPU's (f32/f64, ties, NaN, -0, exclusions, k to 1024)") {
  if (!testing::cuda_or_skip()) return;
  for (bool ties_on : {false, true}) {
    for (bool exclude : {false, true}) {
      check_topk(5, 1 + int(exclude), 1, ties_on, exclude, DType::f32);
      check_topk(37, 300, 10, ties_on, exclude, DType::f32);
      check_topk(37, 300, 299, ties_on, exclude, DType::f32);
      check_topk(3, 70000, 1024, ties_on, exclude, DType::f32);
      check_topk(9, 200000, 7, ties_on, exclude, DType::f32);
      check_topk(37, 5000, 100, ties_on, exclude, DType::f64);
    }
  }
}

TEST_CASE("GPU: CosineIndex finds the brute-force neighbours") {
  if (!testing::cuda_or_skip()) return;
  const Tensor bank = testing::random_rows(3000, 48, 21),
               queries = testing::random_rows(200, 48, 22);
  for (int64_t k : {1, 10, 1024}) {
    CAPTURE(k);
    const CosineIndex index(bank.to(kGpu), 50 * 3000 * 4);  // blocks of 50 queries
    CHECK(index.device() == kGpu);
    testing::check_neighbors(index.search(queries, k),
                             testing::reference_neighbors(bank, queries, k), 200, 3000, k, 2e-6);
  }
  std::vector<int64_t> own(3000);
  for (int64_t i = 0; i < 3000; ++i) own[size_t(i)] = i;
  testing::check_neighbors(CosineIndex(bank.to(kGpu)).search(bank, 5, own),
                           testing::reference_neighbors(bank, bank, 5, own), 3000, 3000, 5, 2e-6,
                           own);
}
