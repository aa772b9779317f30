// GPU against CPU for search and selection: the row top-k kernel (kernels/topk.cu) against its CPU
// twin (same rows, same order: ties, NaN, exclusions, k up to the kernel's limit), the exact index
// on a GPU against the brute-force reference, and the k-center greedy's GPU steps against the CPU
// tiles. Skips (saying so) where no CUDA device is present.
#include <cmath>

#include "engine/autograd/tape.h"
#include "engine/ops/normalize.h"
#include "engine/ops/topk.h"
#include "engine/search/cosine_index.h"
#include "engine/search/kcenter.h"
#include "kernels/philox.cuh"
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

std::vector<uint32_t> ties(int64_t n) {
  std::vector<uint32_t> t(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) t[size_t(i)] = philox4x32(11, 0, uint64_t(i)).v[0];
  return t;
}

// The GPU's selection is the CPU's, or where they part the two picks are equally far (in double
// precision) from the selection before them: a tie that rounding decided.
void check_same_selection(const Tensor& x, const std::vector<int64_t>& cpu,
                          const std::vector<int64_t>& gpu) {
  size_t same = 0;
  while (same < cpu.size() && same < gpu.size() && cpu[same] == gpu[same]) ++same;
  if (same == cpu.size() && same == gpu.size()) return;
  REQUIRE(same < cpu.size());
  REQUIRE(same < gpu.size());
  double dc = INFINITY, dg = INFINITY;
  for (size_t j = 0; j < same; ++j) {
    dc = std::min(dc, testing::unit_distance(x, cpu[same], cpu[j]));
    dg = std::min(dg, testing::unit_distance(x, gpu[same], cpu[j]));
  }
  MESSAGE("the selections part at pick ", same + 1, ": distances ", dc, " and ", dg);
  CHECK(std::fabs(dc - dg) <= 1e-5);
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

TEST_CASE("GPU: k-center greedy selects the CPU's points (diversity, weights, min_distance)") {
  if (!testing::cuda_or_skip()) return;
  NoGrad no_grad;
  for (int64_t clusters : {0, 50}) {
    CAPTURE(clusters);
    const Tensor x = testing::random_rows(30000, 64, 23, clusters, 0.5);
    const Tensor unit = l2_normalize_rows(x);
    KCenterRequest r;
    r.n_samples = 300;
    r.tie = ties(30000);
    check_same_selection(x, kcenter_greedy(unit, r), kcenter_greedy(unit.to(kGpu), r));
    // With a constant objective, a negative strength and a stopping distance.
    r.weight.resize(30000);
    for (int64_t i = 0; i < 30000; ++i) r.weight[size_t(i)] = 0.1 * std::log(1.0 + double(i % 17));
    r.min_distance = 0.2;
    check_same_selection(x, kcenter_greedy(unit, r), kcenter_greedy(unit.to(kGpu), r));
    r.strength = -0.5;
    r.first = 77;
    check_same_selection(x, kcenter_greedy(unit, r), kcenter_greedy(unit.to(kGpu), r));
  }
}

TEST_CASE("GPU: k-center greedy stops where the CPU stops (min_distance, no candidates left)") {
  if (!testing::cuda_or_skip()) return;
  NoGrad no_grad;
  const Tensor x = testing::random_rows(5000, 16, 24, 20, 0.05);
  const Tensor unit = l2_normalize_rows(x);
  KCenterRequest r;
  r.n_samples = 5000;
  r.min_distance = 0.5;  // about one point per cluster
  r.tie = ties(5000);
  const std::vector<int64_t> cpu = kcenter_greedy(unit, r), gpu = kcenter_greedy(unit.to(kGpu), r);
  CHECK(cpu.size() < 100);
  CHECK(gpu == cpu);
}
