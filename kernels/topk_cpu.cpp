#include <algorithm>
#include <vector>

#include "kernels/topk.h"

namespace lumen::kernels {

namespace {

// A heap of the k best entries seen so far whose top is the worst of them (the one every other
// entry comes before), so a new entry is compared with one value.
template <typename C>
struct WorstFirstHeap {
  C* value;
  int64_t* index;
  int64_t size = 0;

  bool worse(int64_t a, int64_t b) const {  // entry a comes after entry b
    return topk_before(value[b], index[b], value[a], index[a]);
  }
  void sift_down(int64_t i) {
    for (;;) {
      int64_t worst = i;
      const int64_t l = 2 * i + 1, r = l + 1;
      if (l < size && worse(l, worst)) worst = l;
      if (r < size && worse(r, worst)) worst = r;
      if (worst == i) return;
      std::swap(value[i], value[worst]);
      std::swap(index[i], index[worst]);
      i = worst;
    }
  }
  void push(C v, int64_t j) {
    int64_t i = size++;
    value[i] = v;
    index[i] = j;
    while (i > 0) {
      const int64_t parent = (i - 1) / 2;
      if (!worse(i, parent)) break;
      std::swap(value[i], value[parent]);
      std::swap(index[i], index[parent]);
      i = parent;
    }
  }
};

}  // namespace

template <typename C>
void row_topk_fold_cpu(const C* x, int64_t rows, int64_t cols, int64_t base, int64_t k,
                       const int64_t* exclude, C* values, int64_t* indices, int64_t* sizes) {
#pragma omp parallel for schedule(dynamic, 1) if (rows > 1 && rows * cols > 65536)
  for (int64_t r = 0; r < rows; ++r) {
    const C* row = x + r * cols;
    const int64_t skip = exclude ? exclude[r] - base : -1;
    WorstFirstHeap<C> heap{values + r * k, indices + r * k, sizes[r]};
    for (int64_t j = 0; j < cols; ++j) {
      if (j == skip) continue;
      const C v = row[j];
      if (heap.size < k) {
        heap.push(v, base + j);
        continue;
      }
      // Columns come in increasing order, so a value no larger than the worst kept one (which
      // has a lower column) never displaces it; NaN on either side fails the test and takes the
      // full comparison.
      if (v <= heap.value[0]) continue;
      if (topk_before(v, base + j, heap.value[0], heap.index[0])) {
        heap.value[0] = v;
        heap.index[0] = base + j;
        heap.sift_down(0);
      }
    }
    sizes[r] = heap.size;
  }
}

template <typename C>
void row_topk_finish_cpu(int64_t rows, int64_t k, C* values, int64_t* indices) {
#pragma omp parallel for schedule(static) if (rows * k > 65536)
  for (int64_t r = 0; r < rows; ++r) {
    // Best first: pop the worst to the back, k times.
    WorstFirstHeap<C> heap{values + r * k, indices + r * k, k};
    for (int64_t n = k; n > 1; --n) {
      std::swap(heap.value[0], heap.value[n - 1]);
      std::swap(heap.index[0], heap.index[n - 1]);
      heap.size = n - 1;
      heap.sift_down(0);
    }
  }
}

template <typename C>
void row_topk_cpu(const C* x, int64_t rows, int64_t cols, int64_t k, const int64_t* exclude,
                  C* values, int64_t* indices) {
  std::vector<int64_t> sizes(static_cast<size_t>(rows), 0);
  row_topk_fold_cpu(x, rows, cols, 0, k, exclude, values, indices, sizes.data());
  row_topk_finish_cpu(rows, k, values, indices);
}

#define LUMEN_TOPK_CPU(C)                                                                          \
  template void row_topk_fold_cpu<C>(const C*, int64_t, int64_t, int64_t, int64_t, const int64_t*, \
                                     C*, int64_t*, int64_t*);                                      \
  template void row_topk_finish_cpu<C>(int64_t, int64_t, C*, int64_t*);                            \
  template void row_topk_cpu<C>(const C*, int64_t, int64_t, int64_t, const int64_t*, C*, int64_t*);
LUMEN_TOPK_CPU(float)
LUMEN_TOPK_CPU(double)

}  // namespace lumen::kernels
