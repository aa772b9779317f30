#include <type_traits>

#include "kernels/launch.cuh"
#include "kernels/topk.h"

namespace lumen::kernels {

namespace {

constexpr int kTopkBlock = 256;  // one block per row

// Keys whose unsigned order is topk.cuh's value order: negatives bit-flipped, positives with the
// sign bit set, -0 as +0, every NaN as the largest key.
__device__ __forceinline__ uint32_t order_key(float v) {
  if (v != v) return 0xFFFFFFFFu;
  const uint32_t u = v == 0.0f ? 0u : __float_as_uint(v);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}
__device__ __forceinline__ uint64_t order_key(double v) {
  if (v != v) return ~0ull;
  const uint64_t u = v == 0.0 ? 0ull : uint64_t(__double_as_longlong(v));
  return (u & 0x8000000000000000ull) ? ~u : (u | 0x8000000000000000ull);
}

// One block per row. A radix select over the keys, 8 bits per pass from the top, finds the k-th
// key T and how many entries equal to T belong to the top k; entries above T are gathered in any
// order, entries equal to T in column order (a block scan per chunk of columns) so that the lowest
// columns win; then the k candidates are sorted best first in shared memory (bitonic sort).
template <typename C>
__global__ void row_topk_kernel(const C* x, int64_t cols, int64_t k, const int64_t* exclude,
                                C* values, int64_t* indices) {
  using K = std::conditional_t<sizeof(C) == 4, uint32_t, uint64_t>;
  constexpr int kBits = int(sizeof(K)) * 8;
  __shared__ int hist[256];
  __shared__ K prefix_shared;
  __shared__ int64_t remaining_shared, taken_shared;
  __shared__ int greater_count;
  __shared__ int warp_counts[kTopkBlock / 32];
  __shared__ C cand_value[kMaxCudaTopk];
  __shared__ int64_t cand_index[kMaxCudaTopk];

  const int64_t r = blockIdx.x;
  const C* row = x + r * cols;
  const int64_t skip = exclude ? exclude[r] : -1;
  const int tid = threadIdx.x;

  K prefix = 0, mask = 0;
  int64_t remaining = k;
  for (int shift = kBits - 8; shift >= 0; shift -= 8) {
    for (int b = tid; b < 256; b += blockDim.x) hist[b] = 0;
    __syncthreads();
    for (int64_t j = tid; j < cols; j += blockDim.x) {
      if (j == skip) continue;
      const K key = order_key(row[j]);
      if ((key & mask) == prefix) atomicAdd(&hist[int((key >> shift) & 0xFF)], 1);
    }
    __syncthreads();
    if (tid == 0) {
      int64_t above = 0;
      for (int b = 255; b >= 0; --b) {
        if (above + hist[b] >= remaining) {
          prefix_shared = prefix | (K(b) << shift);
          remaining_shared = remaining - above;
          break;
        }
        above += hist[b];
      }
    }
    __syncthreads();
    prefix = prefix_shared;
    remaining = remaining_shared;
    mask |= K(0xFF) << shift;
  }
  const K threshold = prefix;
  const int64_t greater = k - remaining;  // entries above the threshold, all in the top k

  if (tid == 0) {
    greater_count = 0;
    taken_shared = 0;
  }
  __syncthreads();
  for (int64_t j = tid; j < cols; j += blockDim.x) {
    if (j == skip) continue;
    const C v = row[j];
    if (order_key(v) > threshold) {
      const int slot = atomicAdd(&greater_count, 1);
      cand_value[slot] = v;
      cand_index[slot] = j;
    }
  }
  const int lane = tid & 31, warp = tid >> 5;
  for (int64_t base = 0; base < cols; base += blockDim.x) {
    const int64_t taken = taken_shared;  // the same for every thread (read between barriers)
    if (taken >= remaining) break;
    const int64_t j = base + tid;
    const bool equal = j < cols && j != skip && order_key(row[j]) == threshold;
    const unsigned ballot = __ballot_sync(0xffffffffu, equal);
    if (lane == 0) warp_counts[warp] = __popc(ballot);
    __syncthreads();
    int64_t before = taken + __popc(ballot & ((1u << lane) - 1u));
    for (int w = 0; w < warp; ++w) before += warp_counts[w];
    if (equal && before < remaining) {
      cand_value[greater + (before - taken)] = row[j];
      cand_index[greater + (before - taken)] = j;
    }
    __syncthreads();
    if (tid == 0) {
      int64_t total = 0;
      for (int w = 0; w < int(blockDim.x >> 5); ++w) total += warp_counts[w];
      taken_shared = taken + total;
    }
    __syncthreads();
  }

  // Bitonic sort of the k candidates (padded to a power of two with entries that sort last).
  int padded = 1;
  while (padded < k) padded <<= 1;
  for (int i = int(k) + tid; i < padded; i += blockDim.x) {
    cand_value[i] = C(-INFINITY);
    cand_index[i] = INT64_MAX;
  }
  __syncthreads();
  for (int size = 2; size <= padded; size <<= 1) {
    for (int stride = size >> 1; stride > 0; stride >>= 1) {
      for (int i = tid; i < padded; i += blockDim.x) {
        const int partner = i ^ stride;
        if (partner <= i) continue;
        const bool best_first = (i & size) == 0;
        const bool partner_before =
            topk_before(cand_value[partner], cand_index[partner], cand_value[i], cand_index[i]);
        if (partner_before == best_first) {
          const C v = cand_value[i];
          const int64_t ix = cand_index[i];
          cand_value[i] = cand_value[partner];
          cand_index[i] = cand_index[partner];
          cand_value[partner] = v;
          cand_index[partner] = ix;
        }
      }
      __syncthreads();
    }
  }
  for (int64_t i = tid; i < k; i += blockDim.x) {
    values[r * k + i] = cand_value[i];
    indices[r * k + i] = cand_index[i];
  }
}

}  // namespace

template <typename C>
void row_topk_cuda(const C* x, int64_t rows, int64_t cols, int64_t k, const int64_t* exclude,
                   C* values, int64_t* indices, cudaStream_t stream) {
  LUMEN_CHECK(k >= 1 && k <= kMaxCudaTopk, "row_topk_cuda: k = ", k, " outside [1, ", kMaxCudaTopk,
              "]");
  if (rows == 0) return;
  row_topk_kernel<C>
      <<<unsigned(rows), kTopkBlock, 0, stream>>>(x, cols, k, exclude, values, indices);
  LUMEN_LAUNCH_CHECK();
}

template void row_topk_cuda<float>(const float*, int64_t, int64_t, int64_t, const int64_t*, float*,
                                   int64_t*, cudaStream_t);
template void row_topk_cuda<double>(const double*, int64_t, int64_t, int64_t, const int64_t*,
                                    double*, int64_t*, cudaStream_t);

}  // namespace lumen::kernels
