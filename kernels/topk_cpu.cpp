#include <algorithm>

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
void row_topk_cpu(const C* x, int64_t rows, int64_t cols, int64_t k, const int64_t* exclude,
                  C* values, int64_t* indices) {
#pragma omp parallel for schedule(dynamic, 1) if (rows > 1 && rows * cols > 65536)
  for (int64_t r = 0; r < rows; ++r) {
    const C* row = x + r * cols;
    const int64_t skip = exclude ? exclude[r] : -1;
    WorstFirstHeap<C> heap{values + r * k, indices + r * k};
    for (int64_t j = 0; j < cols; ++j) {
      if (j == skip) continue;
      const C v = row[j];
      if (heap.size < k) {
        heap.push(v, j);
        continue;
      }
      // Columns come in increasing order, so a value no larger than the worst kept one (which
      // has a lower column) never displaces it; NaN on either side fails the test and takes the
      // full comparison.
      if (v <= heap.value[0]) continue;
      if (topk_before(v, j, heap.value[0], heap.index[0])) {
        heap.value[0] = v;
        heap.index[0] = j;
        heap.sift_down(0);
      }
    }
    // Best first: pop the worst to the back, k times.
    for (int64_t n = heap.size; n > 1; --n) {
      std::swap(heap.value[0], heap.value[n - 1]);
      std::swap(heap.index[0], heap.index[n - 1]);
      heap.size = n - 1;
      heap.sift_down(0);
    }
  }
}

template void row_topk_cpu<float>(const float*, int64_t, int64_t, int64_t, const int64_t*, float*,
                                  int64_t*);
template void row_topk_cpu<double>(const double*, int64_t, int64_t, int64_t, const int64_t*,
                                   double*, int64_t*);

}  // namespace lumen::kernels
